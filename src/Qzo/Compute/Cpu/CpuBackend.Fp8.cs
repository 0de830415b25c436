using Qzo.Numerics;

namespace Qzo.Compute.Cpu;

/// <summary>
/// The fp8 product emulated in float32 (IBackend.Fp8): each operand's values rounded to e4m3 under its per-tensor scaling,
/// multiplied exactly (e4m3 × e4m3 fits a float), summed in float32, scaled back. The reference the GPU's fp8 path is
/// checked against, and what `--compute fp8` runs on the CPU.
/// </summary>
internal sealed partial class CpuBackend
{
    public LinearPrecision QuantizedLinearPrecision { get; set; }

    public IReadOnlyCollection<string> Fp8DeclinedShapes => [];

    public bool TryMatMulFp8(DeviceTensor x, DeviceTensor weight, bool weightInputMajor, DeviceTensor? bias, DeviceTensor y, int m, int n,
                             int k, bool accumulate)
    {
        if (bias is not null && accumulate) throw new ArgumentException("a bias only without accumulate", nameof(bias));
        var (xq, xScale) = RoundToFp8(F(x)[..(m * k)]);
        var (wq, wScale) = RoundToFp8(F(weight)[..(n * k)]);
        var product = new float[m * n];
        if (weightInputMajor) Sgemm.MatMul(xq, wq, product, m, n, k);
        else Sgemm.MatMulTransposedB(xq, wq, product, m, n, k);
        float scale = xScale * wScale;
        var output = F(y);
        var b = bias is null ? default : F(bias);
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                float value = product[r * n + c] * scale + (bias is null ? 0f : b[c]);
                output[r * n + c] = accumulate ? output[r * n + c] + value : value;
            }
        return true;
    }

    /// <summary>The values as e4m3 sees them (Decode(Encode(v · 448/amax))) and the scale that undoes the scaling.</summary>
    internal static (float[] Values, float Scale) RoundToFp8(ReadOnlySpan<float> values)
    {
        float amax = 0f;
        foreach (float v in values)
            if (MathF.Abs(v) > amax) amax = MathF.Abs(v); // NaNs are skipped, as the GPU's fmaxf does: they encode as NaN
        var (inverse, scale) = Fp8E4M3.Scaling(amax);
        var rounded = new float[values.Length];
        for (int i = 0; i < values.Length; i++) rounded[i] = Fp8E4M3.Round(values[i], inverse);
        return (rounded, scale);
    }
}
