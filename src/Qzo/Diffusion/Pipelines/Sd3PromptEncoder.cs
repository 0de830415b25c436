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
        ClipTowerOutput clipL, clipG;
        using (var model = ClipTextLoader.Load(folder.TextEncoder, backend))
            clipL = RunClip(model, Tokenizer.Load(folder.Tokenizer), prompts, folder.TextEncoder);
        using (var model = ClipTextLoader.Load(folder.TextEncoder2, backend))
            clipG = RunClip(model, Tokenizer.Load(folder.Tokenizer2), prompts, folder.TextEncoder2);
        float[]? t5 = null;
        if (useT5 && folder.TextEncoder3 is not null)
            using (var model = T5EncoderLoader.Load(folder.TextEncoder3, backend))
                t5 = RunT5(model, Tokenizer.Load(folder.Tokenizer3!), prompts, maxSequenceLength);
        return Combine(clipL, clipG, t5, prompts.Count, maxSequenceLength, jointAttentionDim, folder.Root);
    }

    /// <summary>
    /// The context and pooled vectors from the towers' outputs for <paramref name="batch"/> prompts: CLIP-L ⊕ CLIP-G on the
    /// first 77 tokens, zero-padded to T5's width, then T5's <paramref name="maxSequenceLength"/> tokens (zeros of
    /// <paramref name="jointAttentionDim"/> when <paramref name="t5"/> is null); pooled = CLIP-L's ⊕ CLIP-G's.
    /// <paramref name="where"/> names the pipeline in messages.
    /// </summary>
    public static Sd3PromptEmbeddings Combine(ClipTowerOutput clipL, ClipTowerOutput clipG, float[]? t5, int batch,
                                              int maxSequenceLength, int jointAttentionDim, string where)
    {
        t5 ??= new float[(long)batch * maxSequenceLength * jointAttentionDim];
        int widthL = clipL.Width, widthG = clipG.Width;
        var (clipLHidden, clipGHidden) = (clipL.Hidden, clipG.Hidden);
        int width = (int)(t5.LongLength / ((long)batch * maxSequenceLength));
        if (width != jointAttentionDim)
            throw new QzoException(
                $"{where}: T5's width {width} ≠ the transformer's joint_attention_dim {jointAttentionDim}");
        if (widthL + widthG > width)
            throw new QzoException($"{where}: CLIP's features ({widthL} + {widthG}) are wider than T5's ({width})");

        int tokens = ClipTokens + maxSequenceLength;
        var context = new float[(long)batch * tokens * width];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < ClipTokens; t++)
            {
                long row = ((long)b * tokens + t) * width;
                Array.Copy(clipLHidden, ((long)b * ClipTokens + t) * widthL, context, row, widthL);
                Array.Copy(clipGHidden, ((long)b * ClipTokens + t) * widthG, context, row + widthL, widthG);
            }
            Array.Copy(t5, (long)b * maxSequenceLength * width, context, ((long)b * tokens + ClipTokens) * width,
                       (long)maxSequenceLength * width);
        }
        int l = clipL.PooledWidth, pooledWidth = l + clipG.PooledWidth;
        var pooled = new float[batch * pooledWidth];
        for (int b = 0; b < batch; b++)
        {
            Array.Copy(clipL.Pooled, b * l, pooled, b * pooledWidth, l);
            Array.Copy(clipG.Pooled, b * (pooledWidth - l), pooled, b * pooledWidth + l, pooledWidth - l);
        }
        return new Sd3PromptEmbeddings(context, pooled, batch, tokens, width, pooledWidth);
    }

    /// <summary>One loaded CLIP tower over prompts: hidden_states[−2] [batch, 77, hidden] and text_embeds [batch, projection].</summary>
    public static ClipTowerOutput RunClip(ClipTextModel model, Tokenizer tokenizer, IReadOnlyList<string> prompts, string encoderFolder)
    {
        int[] ids = prompts.SelectMany(p => tokenizer.EncodePadded(p, ClipTokens)).ToArray();
        using var output = model.Forward(ids, prompts.Count, ClipTokens, hiddenStates: [-2]);
        if (output.TextEmbeds is null) throw new QzoException($"{encoderFolder}: SD3 needs CLIPTextModelWithProjection (text_projection)");
        var hidden = HostFloats.Download(model.Backend, output.HiddenStates.Values.Single());
        var pooled = HostFloats.Download(model.Backend, output.TextEmbeds);
        return new ClipTowerOutput(hidden, pooled, model.Config.HiddenSize, pooled.Length / prompts.Count);
    }

    /// <summary>The loaded T5 encoder over prompts padded to <paramref name="length"/>: last_hidden_state [batch, length, d].</summary>
    public static float[] RunT5(T5EncoderModel model, Tokenizer tokenizer, IReadOnlyList<string> prompts, int length)
    {
        int[] ids = prompts.SelectMany(p => tokenizer.EncodePadded(p, length)).ToArray();
        using var output = model.Forward(ids, prompts.Count, length);
        return HostFloats.Download(model.Backend, output.LastHiddenState, (long)prompts.Count * length * model.Config.DModel);
    }
}

/// <summary>
/// One CLIP tower's share of the SD3 prompt embeddings, fp32 on the host: the penultimate hidden states
/// [batch, 77, <see cref="Width"/>] and the projected pooled states [batch, <see cref="PooledWidth"/>].
/// </summary>
public sealed record ClipTowerOutput(float[] Hidden, float[] Pooled, int Width, int PooledWidth);
