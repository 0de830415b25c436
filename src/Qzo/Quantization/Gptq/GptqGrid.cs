namespace Qzo.Quantization.Gptq;

/// <summary>
/// The quantization grid of one group of one output row, as AutoGPTQ's <c>Quantizer.find_params</c> (perchannel,
/// no MSE search) and <c>quantize</c> define it; shared by RTN and the GPTQ algorithm.
/// </summary>
public static class GptqGrid
{
    /// <summary>Scale (float32, before fp16 storage) and integer zero point for the values of one group.</summary>
    public static (float Scale, int Zero) FindParams(ReadOnlySpan<float> values, int bits, bool sym)
    {
        int maxq = (1 << bits) - 1;
        float xmin = 0, xmax = 0; // the range always includes 0
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!float.IsFinite(v)) throw new QzoException($"cannot quantize a non-finite weight ({v}) at index {i} of a group");
            if (v < xmin) xmin = v;
            if (v > xmax) xmax = v;
        }
        if (sym)
        {
            xmax = MathF.Max(MathF.Abs(xmin), xmax);
            // An all-non-negative group keeps xmin = 0 (as find_params does): the grid then covers only [−xmax/2, xmax/2]
            // around the fixed zero 2^(b−1) and large values clip. AutoGPTQ and GPTQModel checkpoints share this quirk.
            if (xmin < 0) xmin = -xmax;
        }
        if (xmin == 0 && xmax == 0) { xmin = -1; xmax = 1; }
        float scale = (xmax - xmin) / maxq;
        int zero = sym ? (maxq + 1) / 2 : (int)MathF.Round(-xmin / scale); // MathF.Round ties to even, like torch.round
        return (scale, zero);
    }

    /// <summary>The scale as a checkpoint stores it (fp16, round to nearest even).</summary>
    public static Half ToStoredScale(float scale)
    {
        var stored = (Half)scale;
        if (Half.IsInfinity(stored) || Half.IsNaN(stored))
            throw new QzoException($"quantization scale {scale} does not fit in fp16 (largest 65504)");
        // A scale below fp16's smallest subnormal would store 0 and divide by zero; the smallest step keeps the codes at
        // the zero point, so such a group (|w| < 2^−24·maxq) dequantizes to 0 instead of NaN.
        return stored == Half.Zero ? Half.Epsilon : stored;
    }

    /// <summary>q = clamp(round(w / scale) + zero, 0, 2^bits − 1), with <paramref name="scale"/> the stored fp16 scale.</summary>
    public static int Code(float w, float scale, int zero, int maxq)
    {
        float q = MathF.Round(w / scale) + zero;
        return (int)Math.Clamp(q, 0f, maxq);
    }
}
