using ILGPU;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// One thread per element for the image models' element-wise operations: nearest upsampling, the activations of
/// <see cref="Activation"/>, adaptive-norm modulation, gated residuals and linear combinations. bf16 in and out (Axpby:
/// fp32 too), fp32 inside, rounded once.
/// </summary>
static class DiffusionElementwiseKernels
{
    /// <summary>y[p, i, j] = x[p, i/2, j/2]; index runs over y [planes, 2·height, 2·width].</summary>
    public static void UpsampleNearest2x(Index1D index, ArrayView<ushort> x, ArrayView<ushort> y, int height, int width)
    {
        int column = index % (2 * width), row = index / (2 * width); // row of y counting every plane's rows
        int plane = row / (2 * height), i = row - plane * 2 * height;
        y[index] = x[((long)plane * height + i / 2) * width + column / 2];
    }

    public static void Activate(Index1D index, ArrayView<ushort> x, int activation) =>
        x[index] = Bf16.FromFloat(Apply(Bf16.ToFloat(x[index]), activation));

    /// <summary>The <see cref="Activation"/> numbered <paramref name="activation"/>, with torch's definitions.</summary>
    static float Apply(float v, int activation)
    {
        if (activation == (int)Activation.Silu) return v / (1f + KernelMath.Exp(-v));
        if (activation == (int)Activation.QuickGelu) return v / (1f + KernelMath.Exp(-1.702f * v));
        if (activation == (int)Activation.GeluTanh)
            return 0.5f * v * (1f + Tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
        return 0.5f * v * Erfc(-0.70710678118654752f * v); // GeluErf: x/2·erfc(−x/√2), no cancellation for negative x
    }

    /// <summary>As <see cref="Numerics.Erfc.Of"/>, with the kernels' exp.</summary>
    static float Erfc(float x)
    {
        float z = MathF.Abs(x), t = 1f / (1f + 0.5f * z);
        float tail = t * KernelMath.Exp(-z * z + Numerics.Erfc.Polynomial(t));
        return x >= 0 ? tail : 2f - tail;
    }

    /// <summary>tanh(u) = 1 − 2 / (e^{2u} + 1): ±1 in the limits, never NaN.</summary>
    static float Tanh(float u) => 1f - 2f / (KernelMath.Exp(2f * u) + 1f);

    /// <summary>Where row b of a per-batch vector starts (Offset + b·Stride) in its tensor, and the token rows it serves.</summary>
    public readonly record struct Rows(int Tokens, int Dim, long ShiftOffset, int ShiftStride, long ScaleOffset, int ScaleStride);

    /// <summary>y = x·(1 + scale[b]) + shift[b]; index runs over [batch, tokens, dim].</summary>
    public static void Modulate(Index1D index, ArrayView<ushort> x, ArrayView<ushort> shift, ArrayView<ushort> scale, ArrayView<ushort> y,
                                Rows s)
    {
        int j = index % s.Dim, b = index / s.Dim / s.Tokens;
        float sc = Bf16.ToFloat(scale[s.ScaleOffset + (long)b * s.ScaleStride + j]);
        float sh = Bf16.ToFloat(shift[s.ShiftOffset + (long)b * s.ShiftStride + j]);
        y[index] = Bf16.FromFloat(Bf16.ToFloat(x[index]) * (1f + sc) + sh);
    }

    /// <summary>x += gate[b]·y (the gate's row in Rows' shift slot); index runs over [batch, tokens, dim].</summary>
    public static void GatedAdd(Index1D index, ArrayView<ushort> x, ArrayView<ushort> gate, ArrayView<ushort> y, Rows s)
    {
        int j = index % s.Dim, b = index / s.Dim / s.Tokens;
        float g = Bf16.ToFloat(gate[s.ShiftOffset + (long)b * s.ShiftStride + j]);
        x[index] = Bf16.FromFloat(Bf16.ToFloat(x[index]) + g * Bf16.ToFloat(y[index]));
    }

    public static void AxpbyBf16(Index1D index, ArrayView<ushort> x, ArrayView<ushort> y, float a, float b) =>
        x[index] = Bf16.FromFloat(a * Bf16.ToFloat(x[index]) + b * Bf16.ToFloat(y[index]));

    public static void AxpbyF32(Index1D index, ArrayView<float> x, ArrayView<float> y, float a, float b) =>
        x[index] = a * x[index] + b * y[index];
}
