namespace Qzo.Compute;

/// <summary>
/// Activation operations some model families add to the common ones: a normalization whose weight is stored as an
/// offset from 1, a tanh-approximated GELU gate, tanh soft-capping and a plain scale. Each takes and writes the compute
/// type unless it says otherwise.
/// </summary>
public partial interface IBackend
{
    /// <summary>
    /// y = x / sqrt(mean(x²) + eps) · (1 + weight), per row, the whole product in fp32 and rounded once (the RMSNorm of
    /// Gemma, whose checkpoints store weight − 1). x and y may be one buffer.
    /// </summary>
    void RmsNormOnePlusWeight(DeviceTensor x, DeviceTensor weight, DeviceTensor y, int rows, int dim, float eps);

    /// <summary>
    /// gate[i] = gelu_tanh(gate[i]) · up[i], with torch's tanh approximation
    /// gelu_tanh(g) = g/2 · (1 + tanh(√(2/π) · (g + 0.044715 g³))) (gelu_pytorch_tanh: a GeGLU MLP).
    /// </summary>
    void GeluTanhMulInPlace(DeviceTensor gate, DeviceTensor up, long count);

    /// <summary>x[i] = cap · tanh(x[i] / cap) for an F32 x (logits): a smooth clamp into (−cap, cap).</summary>
    void SoftcapInPlace(DeviceTensor x, float cap, long count);

    /// <summary>x[i] = x[i] · factor, rounded to x's type.</summary>
    void ScaleInPlace(DeviceTensor x, float factor, long count);
}
