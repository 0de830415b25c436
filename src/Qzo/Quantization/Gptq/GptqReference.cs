namespace Qzo.Quantization.Gptq;

/// <summary>The plain definition of a GPTQ layer's weight, for tests and as the oracle for faster kernels.</summary>
public static class GptqReference
{
    /// <summary>
    /// W[o, i] = scales[g_idx[i], o] · (q[i, o] − zero[g_idx[i], o]), returned row-major [out, in] in float32.
    /// The product of an fp16 scale and a small integer is exact in float32 (PyTorch's fp16 path rounds it to fp16).
    /// </summary>
    public static float[] Dequantize(
        ReadOnlySpan<int> qweight, ReadOnlySpan<int> qzeros, ReadOnlySpan<float> scales, ReadOnlySpan<int> gIdx,
        int inFeatures, int outFeatures, int bits, GptqCheckpointFormat format)
    {
        if (outFeatures <= 0 || scales.Length % outFeatures != 0)
            throw new ArgumentException($"scales has {scales.Length} elements, not a whole number of rows of {outFeatures}",
                nameof(scales));
        int groups = scales.Length / outFeatures;
        if (gIdx.Length != inFeatures)
            throw new ArgumentException($"g_idx has {gIdx.Length} elements, expected {inFeatures}", nameof(gIdx));
        for (int i = 0; i < inFeatures; i++)
            if ((uint)gIdx[i] >= (uint)groups)
                throw new ArgumentOutOfRangeException(nameof(gIdx), $"g_idx[{i}] = {gIdx[i]} is not one of the {groups} groups");

        var q = GptqPacking.UnpackQWeight(qweight, inFeatures, outFeatures, bits);
        var zeros = GptqPacking.UnpackQZeros(qzeros, groups, outFeatures, bits, format);
        var w = new float[outFeatures * inFeatures];
        for (int i = 0; i < inFeatures; i++)
        {
            int g = gIdx[i];
            for (int o = 0; o < outFeatures; o++)
                w[o * inFeatures + i] = scales[g * outFeatures + o] * (q[i * outFeatures + o] - zeros[g * outFeatures + o]);
        }
        return w;
    }
}
