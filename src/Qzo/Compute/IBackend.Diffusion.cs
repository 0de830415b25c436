namespace Qzo.Compute;

/// <summary>The element-wise activations of <see cref="IBackend.ActivationInPlace"/>, with torch's definitions.</summary>
public enum Activation
{
    /// <summary>x·σ(x).</summary>
    Silu,
    /// <summary>x/2 · (1 + tanh(√(2/π)·(x + 0.044715x³))): torch's gelu(approximate="tanh"), gelu_new, gelu_pytorch_tanh.</summary>
    GeluTanh,
    /// <summary>x/2 · (1 + erf(x/√2)): torch's exact gelu (OpenCLIP bigG's "gelu").</summary>
    GeluErf,
    /// <summary>x·σ(1.702x): CLIP-L's "quick_gelu".</summary>
    QuickGelu,
}

/// <summary>
/// Zero padding around an image before a convolution, in pixels on each side (diffusers' downsampler pads only right
/// and bottom).
/// </summary>
public readonly record struct Padding2d(int Top, int Bottom, int Left, int Right)
{
    public static Padding2d Same(int pixels) => new(pixels, pixels, pixels, pixels);
}

/// <summary>
/// The operations image models add: convolutions and group norms over NCHW images, nearest upsampling, element-wise
/// activations, adaptive-norm modulation and gated residuals (DiT blocks), full (non-causal) attention with an optional
/// additive bias (T5's relative positions), axis permutations (patchify, NCHW ↔ tokens) and linear combinations
/// (the sampler's steps, classifier-free guidance). Images are [batch, channels, height, width], row-major; token
/// sequences are [batch, tokens, width]. Each takes and writes <see cref="IBackend.ComputeType"/> unless it says
/// otherwise; statistics, softmax and sums are taken in fp32.
/// </summary>
public partial interface IBackend
{
    /// <summary>
    /// y[b, o, i, j] = bias[o] + Σ_{c, u, v} weight[o, c, u, v] · xpad[b, c, i·stride + u, j·stride + v], where xpad is x
    /// [batch, cIn, height, width] with <paramref name="padding"/> zeros around it; weight [cOut, cIn, kernel, kernel]
    /// as torch stores it; bias [cOut] or null; y [batch, cOut, outHeight, outWidth] with
    /// outHeight = (height + top + bottom − kernel) / stride + 1 and outWidth likewise (torch's Conv2d, dilation 1, groups 1).
    /// Products and sums in fp32, rounded once.
    /// </summary>
    void Conv2d(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor y, int batch, int cIn, int height, int width,
                int cOut, int kernel, int stride, Padding2d padding);

    /// <summary>
    /// torch's GroupNorm over x [batch, channels, spatial]: channels split into <paramref name="groups"/> consecutive
    /// groups; each (b, group) is normalized by its mean and biased variance over its channels·spatial values, then
    /// y = x̂·weight[c] + bias[c] (both [channels]). Statistics in fp32. x and y may be one buffer.
    /// </summary>
    void GroupNorm(DeviceTensor x, DeviceTensor weight, DeviceTensor bias, DeviceTensor y, int batch, int channels, int spatial,
                   int groups, float eps);

    /// <summary>
    /// y[p, 2i + a, 2j + b] = x[p, i, j] for a, b ∈ {0, 1}: x [planes, height, width], y [planes, 2·height, 2·width]
    /// (nearest ×2).
    /// </summary>
    void UpsampleNearest2x(DeviceTensor x, DeviceTensor y, int planes, int height, int width);

    /// <summary>x[i] = f(x[i]) for the <paramref name="activation"/>, computed in fp32.</summary>
    void ActivationInPlace(DeviceTensor x, Activation activation, long count);

    /// <summary>
    /// Adaptive-norm modulation: y[b, t, :] = x[b, t, :] · (1 + scale[b, :]) + shift[b, :] for x, y [batch, tokens, dim];
    /// row b of <paramref name="shift"/> and <paramref name="scale"/> is their view's row b (chunks of one modulation
    /// tensor [batch, k·dim]). In fp32, rounded once. x and y may be one buffer.
    /// </summary>
    void Modulate(DeviceTensor x, MatrixView shift, MatrixView scale, DeviceTensor y, int batch, int tokens, int dim);

    /// <summary>
    /// Gated residual: x[b, t, :] += gate[b, :] ⊙ y[b, t, :] for x, y [batch, tokens, dim], gate's row b as in
    /// <see cref="Modulate"/>. In fp32, rounded once.
    /// </summary>
    void GatedAddInPlace(DeviceTensor x, MatrixView gate, DeviceTensor y, int batch, int tokens, int dim);

    /// <summary>
    /// Full attention: output[b, i, h, :] = Σ_j softmax_j(scale · q[b, i, h]·k[b, j, h] + bias[h, i, j]) · v[b, j, h, :]
    /// for q, output [batch, queries, heads, headDim] and k, v [batch, keys, heads, headDim]; no mask, every query sees
    /// every key. <paramref name="bias"/> is F32 [heads, queries, keys], shared by the batch, or null. scale 0 means
    /// 1/√headDim (T5 passes 1: its scores are not scaled). Scores and softmax in fp32. A query whose scores are all −∞
    /// (a masking bias) outputs zeros.
    /// </summary>
    void Attention(DeviceTensor q, DeviceTensor k, DeviceTensor v, DeviceTensor? bias, DeviceTensor output, int batch, int queries,
                   int keys, int heads, int headDim, float scale = 0);

    /// <summary>
    /// y = x with its axes reordered: x has the row-major <paramref name="shape"/> (1 to 6 axes), and y's axis a is x's
    /// axis order[a] (torch's x.permute(order).contiguous()). Both of one dtype, any dtype.
    /// </summary>
    void Permute(DeviceTensor x, DeviceTensor y, int[] shape, int[] order);

    /// <summary>x[i] = a·x[i] + b·y[i], in fp32 and rounded once to x's type (x, y of one dtype: F32 or the compute type).</summary>
    void Axpby(DeviceTensor x, DeviceTensor y, float a, float b, long count);
}
