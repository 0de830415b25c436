namespace Qzo.Quantization.Bnb;

/// <summary>
/// The per-block scaling both of bitsandbytes' blockwise quantizers share (backends/default/ops.py): absmax = max|x|
/// over each block of the flattened tensor (the last block may be short), and x scaled into [−1, 1] by multiplying
/// with the float32 reciprocal of absmax (at least 1e−38), or, in the short last block, by dividing by it.
/// </summary>
static class BlockAbsmax
{
    public static float[] Of(ReadOnlySpan<float> values, int blockSize)
    {
        int blocks = (values.Length + blockSize - 1) / blockSize;
        var absmax = new float[blocks];
        for (int b = 0; b < blocks; b++)
        {
            var block = values.Slice(b * blockSize, Math.Min(blockSize, values.Length - b * blockSize));
            float max = 0f;
            foreach (float v in block)
            {
                if (!float.IsFinite(v)) throw new QzoException($"cannot quantize a non-finite value ({v}) in block {b}");
                max = MathF.Max(max, MathF.Abs(v));
            }
            absmax[b] = max;
        }
        return absmax;
    }

    /// <summary>Value <paramref name="index"/> of the flattened tensor, scaled by its block's absmax and clamped to [−1, 1].</summary>
    public static float Scaled(float value, long index, float[] absmax, int blockSize, long length)
    {
        long block = index / blockSize;
        float divisor = MathF.Max(absmax[block], 1e-38f);
        bool shortLastBlock = length % blockSize != 0 && block == absmax.Length - 1;
        float scaled = shortLastBlock ? value / divisor : value * (1f / divisor);
        return Math.Clamp(scaled, -1f, 1f);
    }
}
