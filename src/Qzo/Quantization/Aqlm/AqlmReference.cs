namespace Qzo.Quantization.Aqlm;

/// <summary>The plain definition of an AQLM weight (aqlm.utils._dequantize_weight), for tests and as the oracle for the kernels.</summary>
public static class AqlmReference
{
    /// <summary>
    /// W[O·r + a, I·k + j] = scales[r] · Σ_c codebooks[c, codes[r, k, c], a, j], returned row-major [out, in] in float32.
    /// </summary>
    /// <param name="codes">[out/O, in/I, M], each in [0, 2^bits)</param>
    /// <param name="codebooks">[M, 2^bits, O, I]</param>
    /// <param name="scales">[out/O]</param>
    public static float[] Dequantize(ReadOnlySpan<int> codes, ReadOnlySpan<float> codebooks, ReadOnlySpan<float> scales,
                                     AqlmScheme scheme, int outFeatures, int inFeatures)
    {
        int m = scheme.Codebooks, size = scheme.CodebookSize, o = scheme.OutGroupSize, ig = scheme.InGroupSize;
        int outGroups = outFeatures / o, inGroups = inFeatures / ig;
        if (codes.Length != outGroups * inGroups * m) throw new ArgumentException(
            $"codes has {codes.Length} entries, expected {outGroups}·{inGroups}·{m}", nameof(codes));
        if (codebooks.Length != m * size * o * ig) throw new ArgumentException(
            $"codebooks has {codebooks.Length} values, expected {m}·{size}·{o}·{ig}", nameof(codebooks));
        if (scales.Length != outGroups) throw new ArgumentException($"scales has {scales.Length} values, expected {outGroups}",
            nameof(scales));
        var w = new float[outFeatures * inFeatures];
        for (int r = 0; r < outGroups; r++)
            for (int k = 0; k < inGroups; k++)
                for (int a = 0; a < o; a++)
                    for (int j = 0; j < ig; j++)
                    {
                        float sum = 0f;
                        for (int c = 0; c < m; c++) sum += codebooks[((c * size + codes[(r * inGroups + k) * m + c]) * o + a) * ig + j];
                        w[(r * o + a) * inFeatures + k * ig + j] = scales[r] * sum;
                    }
        return w;
    }
}
