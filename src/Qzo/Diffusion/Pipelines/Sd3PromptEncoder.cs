using Qzo.Compute;
using Qzo.Encoders.Clip;
using Qzo.Encoders.T5;
using Qzo.Text;

namespace Qzo.Diffusion.Pipelines;

/// <summary>
/// Prompts → <see cref="Sd3PromptEmbeddings"/> as diffusers' StableDiffusion3Pipeline.encode_prompt builds them: each
/// CLIP tower reads its tokenizer's ids padded to 77 and gives its penultimate hidden state and its projected pooled
/// state; T5 reads ids padded to max_sequence_length and gives its last hidden state (zeros of the transformer's
/// joint_attention_dim when T5 is absent or skipped, as SD3 allows). No attention masks, as the pipeline passes none.
/// Each encoder is loaded, run and released before the next, so at most one is on the device at a time.
/// </summary>
public static class Sd3PromptEncoder
{
    /// <summary>CLIP's tokenizer_max_length in SD3 (the towers' max_position_embeddings).</summary>
    public const int ClipTokens = 77;

    public static Sd3PromptEmbeddings Encode(Sd3PipelineFolder folder, IBackend backend, IReadOnlyList<string> prompts,
                                             int maxSequenceLength, bool useT5, int jointAttentionDim)
    {
        int batch = prompts.Count;
        var (clipL, pooledL, widthL) = EncodeClip(folder.Tokenizer, folder.TextEncoder, backend, prompts);
        var (clipG, pooledG, widthG) = EncodeClip(folder.Tokenizer2, folder.TextEncoder2, backend, prompts);
        var t5 = useT5 && folder.TextEncoder3 is not null
            ? EncodeT5(folder.Tokenizer3!, folder.TextEncoder3, backend, prompts, maxSequenceLength)
            : new float[(long)batch * maxSequenceLength * jointAttentionDim];
        int width = (int)(t5.LongLength / ((long)batch * maxSequenceLength));
        if (width != jointAttentionDim)
            throw new QzoException(
                $"{folder.TextEncoder3}: T5's width {width} ≠ the transformer's joint_attention_dim {jointAttentionDim}");
        if (widthL + widthG > width)
            throw new QzoException($"{folder.Root}: CLIP's features ({widthL} + {widthG}) are wider than T5's ({width})");

        int tokens = ClipTokens + maxSequenceLength;
        var context = new float[(long)batch * tokens * width];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < ClipTokens; t++)
            {
                long row = ((long)b * tokens + t) * width;
                Array.Copy(clipL, ((long)b * ClipTokens + t) * widthL, context, row, widthL);
                Array.Copy(clipG, ((long)b * ClipTokens + t) * widthG, context, row + widthL, widthG);
            }
            Array.Copy(t5, (long)b * maxSequenceLength * width, context, ((long)b * tokens + ClipTokens) * width,
                       (long)maxSequenceLength * width);
        }
        int pooledWidth = pooledL.Length / batch + pooledG.Length / batch;
        var pooled = new float[batch * pooledWidth];
        for (int b = 0; b < batch; b++)
        {
            int l = pooledL.Length / batch;
            Array.Copy(pooledL, b * l, pooled, b * pooledWidth, l);
            Array.Copy(pooledG, b * (pooledWidth - l), pooled, b * pooledWidth + l, pooledWidth - l);
        }
        return new Sd3PromptEmbeddings(context, pooled, batch, tokens, width, pooledWidth);
    }

    /// <summary>One CLIP tower: hidden_states[−2] [batch, 77, hidden] and text_embeds [batch, projection].</summary>
    static (float[] Hidden, float[] Pooled, int Width) EncodeClip(string tokenizerFolder, string encoderFolder, IBackend backend,
                                                                 IReadOnlyList<string> prompts)
    {
        var tokenizer = Tokenizer.Load(tokenizerFolder);
        int[] ids = prompts.SelectMany(p => tokenizer.EncodePadded(p, ClipTokens)).ToArray();
        using var model = ClipTextLoader.Load(encoderFolder, backend);
        using var output = model.Forward(ids, prompts.Count, ClipTokens, hiddenStates: [-2]);
        if (output.TextEmbeds is null) throw new QzoException($"{encoderFolder}: SD3 needs CLIPTextModelWithProjection (text_projection)");
        var hidden = HostFloats.Download(backend, output.HiddenStates.Values.Single());
        return (hidden, HostFloats.Download(backend, output.TextEmbeds), model.Config.HiddenSize);
    }

    static float[] EncodeT5(string tokenizerFolder, string encoderFolder, IBackend backend, IReadOnlyList<string> prompts, int length)
    {
        var tokenizer = Tokenizer.Load(tokenizerFolder);
        int[] ids = prompts.SelectMany(p => tokenizer.EncodePadded(p, length)).ToArray();
        using var model = T5EncoderLoader.Load(encoderFolder, backend);
        using var output = model.Forward(ids, prompts.Count, length);
        return HostFloats.Download(backend, output.LastHiddenState, (long)prompts.Count * length * model.Config.DModel);
    }
}
