namespace Qzo.Quantization.Bnb;

/// <summary>The plain definition of a bitsandbytes 4-bit weight, for tests and as the oracle for the kernels.</summary>
public static class Bnb4BitReference
{
    /// <summary>
    /// w[k] = code[nibble k] · absmax[k / blockSize] for k &lt; count, as float32 (the flattened [out, in] weight); in parallel
    /// chunks of whole blocks, each value on its own.
    /// </summary>
    public static unsafe float[] Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> absmax, IReadOnlyList<float> code, int blockSize,
        long count)
    {
        if (packed.Length != (count + 1) / 2) throw new ArgumentException($"{packed.Length} packed bytes cannot hold {count} values",
            nameof(packed));
        if (absmax.Length != (count + blockSize - 1) / blockSize) throw new ArgumentException(
            $"{absmax.Length} absmax values for {count} values in blocks of {blockSize}", nameof(absmax));
        var w = new float[count];
        var table = code.ToArray();
        fixed (byte* p = packed)
        fixed (float* a = absmax)
        {
            nint codes = (nint)p, scales = (nint)a;
            BlockRanges.ForEach(count, blockSize, (first, end) =>
            {
                for (int b = first; b < end; b++)
                {
                    float scale = ((float*)scales)[b];
                    long stop = Math.Min(count, (long)(b + 1) * blockSize);
                    for (long k = (long)b * blockSize; k < stop; k++)
                        w[k] = table[Nibble((byte*)codes, k)] * scale;
                }
                return -1;
            });
        }
        return w;
    }

    /// <summary>
    /// ‖W − Ŵ‖/‖W‖ with Ŵ the dequantized weight, not made: the same double sums, term by term in the same order, as
    /// QuantizeReport.RelativeError(weight, Dequantize(...)), hence the same double. The sums stay serial: summed in
    /// parallel parts they would round differently.
    /// </summary>
    public static double RelativeError(ReadOnlySpan<float> weight, ReadOnlySpan<byte> packed, ReadOnlySpan<float> absmax,
        ReadOnlySpan<float> code, int blockSize)
    {
        if (packed.Length != (weight.Length + 1) / 2 || absmax.Length != (weight.Length + blockSize - 1) / blockSize)
            throw new ArgumentException($"{packed.Length} packed bytes and {absmax.Length} absmax values for {weight.Length} values " +
                                        $"in blocks of {blockSize}");
        double error = 0, norm = 0;
        for (int b = 0; b < absmax.Length; b++)
        {
            float scale = absmax[b];
            int end = (int)Math.Min(weight.Length, (long)(b + 1) * blockSize);
            for (int k = b * blockSize; k < end; k++)
            {
                int nibble = (k & 1) == 0 ? packed[k >> 1] >> 4 : packed[k >> 1] & 0xF;
                float dequantized = code[nibble] * scale;
                double d = (double)weight[k] - dequantized;
                error += d * d;
                norm += (double)weight[k] * weight[k];
            }
        }
        return norm == 0 ? Math.Sqrt(error) : Math.Sqrt(error / norm);
    }

    static unsafe int Nibble(byte* packed, long k) => (k & 1) == 0 ? packed[k >> 1] >> 4 : packed[k >> 1] & 0xF;
}
