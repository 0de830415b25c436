namespace Qzo.Quantization.Bnb;

/// <summary>The plain definition of a bitsandbytes 4-bit weight, for tests and as the oracle for the kernels.</summary>
public static class Bnb4BitReference
{
    /// <summary>w[k] = code[nibble k] · absmax[k / blockSize] for k &lt; count, as float32 (the flattened [out, in] weight).</summary>
    public static float[] Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> absmax, IReadOnlyList<float> code, int blockSize,
        long count)
    {
        if (packed.Length != (count + 1) / 2) throw new ArgumentException($"{packed.Length} packed bytes cannot hold {count} values",
            nameof(packed));
        if (absmax.Length != (count + blockSize - 1) / blockSize) throw new ArgumentException(
            $"{absmax.Length} absmax values for {count} values in blocks of {blockSize}", nameof(absmax));
        var w = new float[count];
        for (long k = 0; k < count; k++) w[k] = code[Bnb4BitQuantizer.Nibble(packed, k)] * absmax[(int)(k / blockSize)];
        return w;
    }
}
