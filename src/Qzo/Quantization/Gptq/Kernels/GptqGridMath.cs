using System.Runtime.CompilerServices;
using Qzo.Compute.Cuda.Kernels;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// AutoGPTQ's find_params from a group's range, in float32, and the scale as a checkpoint stores it (fp16), inside
/// kernels: the arithmetic of <see cref="GptqGrid"/>, without its exceptions, and rounding done by adding and
/// subtracting 1.5·2^23 (1.5·2^52 for doubles), which rounds to nearest even where ILGPU has no rint.
/// </summary>
static class GptqGridMath
{
    /// <param name="xmin">the smallest value of the group, or 0 if none is negative</param>
    /// <param name="xmax">the largest value of the group, or 0 if none is positive</param>
    /// <param name="scale">the stored fp16 scale as a float (never 0: the smallest subnormal instead)</param>
    /// <returns>false when the scale does not fit in fp16</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Params(float xmin, float xmax, int bits, bool sym, out float scale, out int zero)
    {
        int maxq = (1 << bits) - 1;
        if (sym)
        {
            float magnitude = -xmin; // xmin ≤ 0
            if (magnitude > xmax) xmax = magnitude;
            if (xmin < 0) xmin = -xmax;
        }
        if (xmin == 0 && xmax == 0) { xmin = -1; xmax = 1; }
        float raw = (xmax - xmin) / maxq;
        zero = sym ? (maxq + 1) / 2 : (int)RoundEven(-xmin / raw);
        ushort stored = Fp16.FromFloat(raw);
        scale = Fp16.ToFloat(stored == 0 ? (ushort)1 : stored);
        return (stored & 0x7C00) != 0x7C00;
    }

    /// <summary>Round to nearest, ties to even, for |x| &lt; 2^22.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundEven(float x) => (x + 12582912f) - 12582912f;

    /// <summary>
    /// Round to nearest, ties to even, for |x| &lt; 2^51 (larger values are clamped to ±2^50 first: callers clamp the result far below).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double RoundEven(double x)
    {
        const double limit = 1125899906842624.0; // 2^50
        x = x > limit ? limit : x < -limit ? -limit : x;
        return (x + 6755399441055744.0) - 6755399441055744.0;
    }

    /// <summary>q = clamp(round(x / step) + zero, 0, maxq), as GPTQ's quantize.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Code(double x, double step, int zero, int maxq)
    {
        double q = RoundEven(x / step) + zero;
        return q < 0 ? 0 : q > maxq ? maxq : (int)q;
    }
}
