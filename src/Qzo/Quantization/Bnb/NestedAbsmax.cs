namespace Qzo.Quantization.Bnb;

/// <summary>
/// A double-quantized absmax (bitsandbytes <c>compress_statistics</c>): the 4-bit blocks' absmax minus
/// <paramref name="Offset"/> (their mean), quantized to 8 bits with <paramref name="Map"/> in blocks of
/// <paramref name="BlockSize"/> (256), each with its own fp32 scale in <paramref name="Absmax"/>.
/// </summary>
/// <param name="Codes">one byte per 4-bit block (stored as the linear's <c>weight.absmax</c>, U8)</param>
/// <param name="Absmax">fp32 per nested block (<c>weight.nested_absmax</c>)</param>
/// <param name="Map">256 sorted values (<c>weight.nested_quant_map</c>)</param>
public sealed record NestedAbsmax(byte[] Codes, float[] Absmax, float[] Map, int BlockSize, float Offset)
{
    /// <summary>absmax[b] = map[codes[b]] · nested_absmax[b / BlockSize] + offset, in float32 as bitsandbytes computes it.</summary>
    public float[] Decode()
    {
        var absmax = new float[Codes.Length];
        for (int b = 0; b < absmax.Length; b++) absmax[b] = DecodeOne(Codes[b], Absmax[b / BlockSize]);
        return absmax;
    }

    float DecodeOne(byte code, float scale) => Map[code] * scale + Offset;

    /// <summary>
    /// bitsandbytes' double quantization of fp32 absmax values: offset = their mean, then blockwise 8-bit
    /// quantization of absmax − offset with the signed dynamic map.
    /// </summary>
    public static NestedAbsmax Encode(ReadOnlySpan<float> absmax, int blockSize = 256)
    {
        double sum = 0;
        foreach (float a in absmax) sum += a;
        float offset = (float)(sum / absmax.Length);
        var centred = new float[absmax.Length];
        for (int b = 0; b < centred.Length; b++) centred[b] = absmax[b] - offset;
        var map = DynamicMap.Signed();
        var bounds = Bucketize.Midpoints(map);
        var scales = BlockAbsmax.Of(centred, blockSize);
        var codes = new byte[centred.Length];
        BlockRanges.ForEach(centred.Length, blockSize, (first, end) =>
        {
            for (int b = first * blockSize; b < Math.Min(codes.Length, end * blockSize); b++)
                codes[b] = (byte)Bucketize.Index(bounds, BlockAbsmax.Scaled(centred[b], b, scales, blockSize, centred.Length));
            return -1;
        });
        return new NestedAbsmax(codes, scales, map, blockSize, offset);
    }

    /// <summary>
    /// Re-encodes tuned absmax values into this layout, keeping the offset (so the quant_state JSON stays as it was).
    /// A block whose value did not change keeps its code; a changed one takes the code whose decoded value is nearest
    /// (updates smaller than half a step of the 8-bit grid are lost: the format cannot hold them). A nested block with
    /// a value beyond ±its scale gets the scale max|tuned − offset| and all of its blocks re-encoded, as bitsandbytes
    /// would encode them.
    /// </summary>
    /// <param name="decoded">this layout's <see cref="Decode"/>, the values training started from</param>
    public NestedAbsmax Reencode(ReadOnlySpan<float> decoded, ReadOnlySpan<float> tuned)
    {
        if (decoded.Length != Codes.Length || tuned.Length != Codes.Length)
            throw new ArgumentException($"expected {Codes.Length} absmax values, got {decoded.Length} and {tuned.Length}");
        var codes = (byte[])Codes.Clone();
        var scales = (float[])Absmax.Clone();
        var bounds = Bucketize.Midpoints(Map);
        for (int g = 0; g < scales.Length; g++)
        {
            int start = g * BlockSize, end = Math.Min(start + BlockSize, codes.Length);
            float largest = 0f;
            for (int b = start; b < end; b++) largest = MathF.Max(largest, MathF.Abs(tuned[b] - Offset));
            bool rescale = largest > scales[g];
            if (rescale) scales[g] = largest;
            for (int b = start; b < end; b++)
                if (rescale || BitConverter.SingleToInt32Bits(tuned[b]) != BitConverter.SingleToInt32Bits(decoded[b]))
                    codes[b] = Nearest(tuned[b], scales[g], bounds);
        }
        return this with { Codes = codes, Absmax = scales };
    }

    /// <summary>The code whose decoded value is nearest <paramref name="value"/> (ties to the lower code).</summary>
    byte Nearest(float value, float scale, float[] bounds)
    {
        int guess = Bucketize.Index(bounds, Math.Clamp((value - Offset) / MathF.Max(scale, 1e-38f), -1f, 1f));
        int best = guess;
        float bestError = float.PositiveInfinity;
        for (int c = Math.Max(0, guess - 1); c <= Math.Min(Map.Length - 1, guess + 1); c++)
        {
            float error = MathF.Abs(DecodeOne((byte)c, scale) - value);
            if (error < bestError) { best = c; bestError = error; }
        }
        return (byte)best;
    }
}
