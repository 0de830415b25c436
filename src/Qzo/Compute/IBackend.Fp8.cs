namespace Qzo.Compute;

/// <summary>How a quantized linear multiplies (<c>--compute</c>): in the backend's compute type, or in fp8 e4m3.</summary>
public enum LinearPrecision { Native, Fp8 }

/// <summary>
/// FP8 products for quantized linears (docs/kernels.md §9): the dequantized weight and the activations are each scaled by
/// 448 / amax (their largest magnitude), rounded to e4m3 (<see cref="Numerics.Fp8E4M3"/>), multiplied with fp32 sums,
/// and the sums multiplied by both amax / 448. The CPU emulates it exactly that way in float32.
/// </summary>
public partial interface IBackend
{
    /// <summary>
    /// The precision quantized linears multiply in (Native by default). Setting Fp8 on a backend that cannot throws a
    /// <see cref="QzoException"/> saying why.
    /// </summary>
    LinearPrecision QuantizedLinearPrecision { get; set; }

    /// <summary>
    /// y[m, n] (+)= fp8(x[m, k])·fp8(W)ᵀ (+ bias[n]), W the dequantized weight in <paramref name="weight"/>: [k, n] when
    /// <paramref name="weightInputMajor"/>, else [n, k]. bias only without accumulate. False (nothing done) where this
    /// backend has no fp8 product for the shape; the caller then multiplies in the compute type.
    /// </summary>
    bool TryMatMulFp8(DeviceTensor x, DeviceTensor weight, bool weightInputMajor, DeviceTensor? bias, DeviceTensor y, int m, int n,
                      int k, bool accumulate);

    /// <summary>The shapes "m×n×k" whose fp8 product this backend declined so far (multiplied in the compute type instead).</summary>
    IReadOnlyCollection<string> Fp8DeclinedShapes { get; }
}
