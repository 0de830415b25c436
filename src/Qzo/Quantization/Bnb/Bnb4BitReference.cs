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
        var sums = new ErrorSums(packed, absmax, code, blockSize, weight.Length);
        sums.Add(0, weight);
        return sums.RelativeError;
    }

    /// <summary>
    /// The serial sums of <see cref="RelativeError"/>, fed the weight's values in order, a run of whole blocks at a time
    /// (so a weight can be read and summed in parts, the same terms added in the same order).
    /// </summary>
    public ref struct ErrorSums
    {
        readonly ReadOnlySpan<byte> _packed;
        readonly ReadOnlySpan<float> _absmax, _code;
        readonly int _blockSize, _count;
        double _error, _norm;
        int _next;

        public ErrorSums(ReadOnlySpan<byte> packed, ReadOnlySpan<float> absmax, ReadOnlySpan<float> code, int blockSize, int count)
        {
            if (packed.Length != (count + 1) / 2 || absmax.Length != (count + (long)blockSize - 1) / blockSize)
                throw new ArgumentException($"{packed.Length} packed bytes and {absmax.Length} absmax values for {count} values " +
                                            $"in blocks of {blockSize}");
            _packed = packed;
            _absmax = absmax;
            _code = code;
            (_blockSize, _count) = (blockSize, count);
        }

        /// <summary>Values [start, start + values.Length): start is where the last run ended, at a block boundary.</summary>
        public void Add(int start, ReadOnlySpan<float> values)
        {
            if (start != _next || start % _blockSize != 0 || values.Length > _count - start)
                throw new ArgumentException($"values [{start}, {start + values.Length}) do not follow on from {_next}");
            double error = _error, norm = _norm;
            for (int b = start / _blockSize, k = start, end = start + values.Length; k < end; b++)
            {
                float scale = _absmax[b];
                for (int blockEnd = (int)Math.Min(end, (long)k + _blockSize); k < blockEnd; k++)
                {
                    int nibble = (k & 1) == 0 ? _packed[k >> 1] >> 4 : _packed[k >> 1] & 0xF;
                    float dequantized = _code[nibble] * scale;
                    float w = values[k - start];
                    double d = (double)w - dequantized;
                    error += d * d;
                    norm += (double)w * w;
                }
            }
            (_error, _norm, _next) = (error, norm, start + values.Length);
        }

        public readonly double RelativeError => _next != _count
            ? throw new InvalidOperationException($"{_next} of {_count} values summed")
            : _norm == 0 ? Math.Sqrt(_error) : Math.Sqrt(_error / _norm);
    }

    static unsafe int Nibble(byte* packed, long k) => (k & 1) == 0 ? packed[k >> 1] >> 4 : packed[k >> 1] & 0xF;
}
