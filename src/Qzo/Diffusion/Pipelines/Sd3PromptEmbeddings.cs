namespace Qzo.Diffusion.Pipelines;

/// <summary>
/// What SD3's text encoders give the transformer for a batch of prompts, on the host in fp32: the context
/// [batch, tokens, width] (CLIP-L ⊕ CLIP-G features zero-padded to T5's width on the first 77 tokens, then T5's tokens)
/// and the pooled vector [batch, pooledWidth] (CLIP-L's ⊕ CLIP-G's projected end-token states).
/// </summary>
public sealed record Sd3PromptEmbeddings(float[] Context, float[] Pooled, int Batch, int Tokens, int Width, int PooledWidth)
{
    /// <summary>Each prompt's rows <paramref name="copies"/> times in a row, as the pipeline's num_images_per_prompt does.</summary>
    public Sd3PromptEmbeddings Repeat(int copies) => copies == 1 ? this : new(
        RepeatRows(Context, Batch, (long)Tokens * Width, copies), RepeatRows(Pooled, Batch, PooledWidth, copies),
        Batch * copies, Tokens, Width, PooledWidth);

    /// <summary>This batch after <paramref name="first"/>'s, along the batch (the unconditional half of guidance first).</summary>
    public Sd3PromptEmbeddings After(Sd3PromptEmbeddings first) => new(
        [.. first.Context, .. Context], [.. first.Pooled, .. Pooled], first.Batch + Batch, Tokens, Width, PooledWidth);

    static float[] RepeatRows(float[] values, int rows, long width, int copies)
    {
        var result = new float[values.Length * copies];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < copies; c++)
                Array.Copy(values, r * width, result, (r * copies + c) * width, width);
        return result;
    }
}
