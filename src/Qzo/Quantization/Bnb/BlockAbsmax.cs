using System.Numerics;
using System.Runtime.InteropServices;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// The per-block scaling both of bitsandbytes' blockwise quantizers share (backends/default/ops.py): absmax = max|x|
/// over each block of the flattened tensor (the last block may be short), and x scaled into [−1, 1] by multiplying
/// with the float32 reciprocal of absmax (at least 1e−38), or, in the short last block, by dividing by it.
/// </summary>
static class BlockAbsmax
{
    /// <summary>The largest bit pattern of a finite float with its sign cleared: a larger one is ∞ or NaN.</summary>
    const int LargestFiniteBits = 0x7F7FFFFF;

    /// <param name="fill">when given, fills each chunk's values before its absmax is taken</param>
    public static unsafe float[] Of(ReadOnlySpan<float> values, int blockSize, BlockRanges.Fill? fill = null)
    {
        var absmax = new float[BlockRanges.Count(values.Length, blockSize)];
        fixed (float* p = values)
        {
            nint start = (nint)p;
            int length = values.Length;
            int firstBad = BlockRanges.ForEach(length, blockSize, (first, end) =>
            {
                fill?.Invoke(first * blockSize, (int)Math.Min(length, (long)end * blockSize));
                return Fill(new ReadOnlySpan<float>((float*)start, length), blockSize, first, end, absmax);
            });
            if (firstBad < absmax.Length) throw NonFinite(values, blockSize, firstBad);
        }
        return absmax;
    }

    /// <summary>
    /// absmax of blocks [<paramref name="first"/>, <paramref name="end"/>); the first block holding ∞ or NaN is returned,
    /// and the blocks after it are left, or −1 when all are finite. For finite values max|x| is the largest of the bit
    /// patterns with the sign cleared, so the result is exactly the serial MathF.Max fold.
    /// </summary>
    public static int Fill(ReadOnlySpan<float> values, int blockSize, int first, int end, float[] absmax)
    {
        for (int b = first; b < end; b++)
        {
            var block = values.Slice(b * blockSize, Math.Min(blockSize, values.Length - b * blockSize));
            int bits = LargestMagnitudeBits(MemoryMarshal.Cast<float, int>(block));
            if (bits > LargestFiniteBits) return b;
            absmax[b] = BitConverter.Int32BitsToSingle(bits);
        }
        return -1;
    }

    static int LargestMagnitudeBits(ReadOnlySpan<int> bits)
    {
        int i = 0, largest = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<int>.Count)
        {
            var mask = new Vector<int>(int.MaxValue);
            var max = Vector<int>.Zero;
            for (; i <= bits.Length - Vector<int>.Count; i += Vector<int>.Count) max = Vector.Max(max, new Vector<int>(bits[i..]) & mask);
            for (int lane = 0; lane < Vector<int>.Count; lane++) largest = Math.Max(largest, max[lane]);
        }
        for (; i < bits.Length; i++) largest = Math.Max(largest, bits[i] & int.MaxValue);
        return largest;
    }

    /// <summary>The error the serial scan gives: the first non-finite value, which lies in the first block holding one.</summary>
    public static QzoException NonFinite(ReadOnlySpan<float> values, int blockSize, int block)
    {
        foreach (float v in values.Slice(block * blockSize, Math.Min(blockSize, values.Length - block * blockSize)))
            if (!float.IsFinite(v)) return new QzoException($"cannot quantize a non-finite value ({v}) in block {block}");
        throw new InvalidOperationException($"block {block} holds no non-finite value");
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
