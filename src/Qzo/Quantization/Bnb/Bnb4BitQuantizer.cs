namespace Qzo.Quantization.Bnb;

/// <summary>
/// bitsandbytes' 4-bit quantization (quantize_4bit, default backend) of one flattened weight: blocks of
/// <c>blockSize</c> values share an fp32 absmax; each value becomes the index of the nearest table entry of its
/// scaled value; indices are packed two per byte, the first in the high nibble (an odd count is padded with a 0).
/// </summary>
public static class Bnb4BitQuantizer
{
    /// <summary>In parallel chunks of whole blocks (<see cref="BlockRanges"/>), each taking its blocks' absmax, then encoding.</summary>
    public static (byte[] Packed, float[] Absmax) Quantize(ReadOnlySpan<float> weight, FourBitType type, int blockSize) =>
        Quantize(weight, type, blockSize, null);

    /// <param name="fill">when given, fills each chunk's values before the chunk works on them</param>
    internal static unsafe (byte[] Packed, float[] Absmax) Quantize(ReadOnlySpan<float> weight, FourBitType type, int blockSize,
        BlockRanges.Fill? fill)
    {
        var code = FourBitCode.For(type);
        var absmax = new float[BlockRanges.Count(weight.Length, blockSize)];
        var packed = new byte[(weight.Length + 1) / 2];
        fixed (float* p = weight)
        {
            nint start = (nint)p;
            int length = weight.Length;
            int failed = BlockRanges.ForEach(length, blockSize, (first, end) =>
            {
                fill?.Invoke(first * blockSize, (int)Math.Min(length, (long)end * blockSize));
                var values = new ReadOnlySpan<float>((float*)start, length);
                int nonFinite = BlockAbsmax.Fill(values, blockSize, first, end, absmax);
                if (nonFinite < 0) Encode(values, first, end, absmax, blockSize, code, packed);
                return nonFinite;
            });
            if (failed < absmax.Length) throw BlockAbsmax.NonFinite(weight, blockSize, failed);
        }
        // The padding value 0 encodes as the index nearest 0, as bitsandbytes pads the scaled values before encoding.
        if (weight.Length % 2 == 1) packed[^1] |= code.Encode(0f);
        return (packed, absmax);
    }

    /// <summary>Blocks [first, end) as <see cref="BlockAbsmax.Scaled"/> scales them, value by value.</summary>
    static void Encode(ReadOnlySpan<float> weight, int first, int end, float[] absmax, int blockSize, FourBitCode code, byte[] packed)
    {
        for (int b = first; b < end; b++)
        {
            int start = b * blockSize;
            float divisor = MathF.Max(absmax[b], 1e-38f);
            if ((long)start + blockSize <= weight.Length)
            {
                code.EncodePairs(weight.Slice(start, blockSize), 1f / divisor, packed.AsSpan(start / 2, blockSize / 2));
                continue;
            }
            for (int k = start; k < weight.Length; k++)
            {
                byte index = code.Encode(Math.Clamp(weight[k] / divisor, -1f, 1f)); // the short last block divides
                packed[k / 2] |= (byte)(k % 2 == 0 ? index << 4 : index);
            }
        }
    }

    /// <summary>The 4-bit index of element k: the high nibble of byte k/2 for even k, the low one for odd k.</summary>
    public static int Nibble(ReadOnlySpan<byte> packed, long k) => k % 2 == 0 ? packed[(int)(k / 2)] >> 4 : packed[(int)(k / 2)] & 0xF;
}
