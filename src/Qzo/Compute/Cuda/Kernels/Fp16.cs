using System.Runtime.CompilerServices;
using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>IEEE half as ushort inside kernels: exact widening to float, and narrowing with round to nearest even as
/// <c>(Half)value</c> does it, by bit manipulation (subnormals included).</summary>
static class Fp16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort bits)
    {
        uint sign = (uint)(bits & 0x8000) << 16;
        uint exponent = (uint)(bits >> 10) & 0x1Fu, mantissa = bits & 0x3FFu;
        if (exponent == 0)
        {
            float magnitude = mantissa * 5.9604644775390625E-8f; // mantissa · 2^−24, exact
            return Interop.IntAsFloat(Interop.FloatAsInt(magnitude) | sign);
        }
        if (exponent == 31) return Interop.IntAsFloat(sign | 0x7F800000u | (mantissa << 13));
        return Interop.IntAsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        uint sign = (bits >> 16) & 0x8000u, magnitude = bits & 0x7FFFFFFFu;
        if (magnitude > 0x7F800000u) return (ushort)(sign | 0x7E00u);           // NaN
        if (magnitude >= 0x477FF000u) return (ushort)(sign | 0x7C00u);          // 65520 and up round to infinity
        if (magnitude < 0x38800000u)                                            // below 2^−14: a subnormal half (or 0, or 2^−14)
        {
            float units = Interop.IntAsFloat(magnitude) * 16777216f;            // in units of 2^−24: exact, below 1024
            return (ushort)(sign | (uint)(int)((units + 12582912f) - 12582912f)); // 1.5·2^23 rounds to an integer, ties to even
        }
        magnitude += 0xFFFu + ((magnitude >> 13) & 1u);                         // round the 13 dropped bits to nearest even
        return (ushort)(sign | ((magnitude - (112u << 23)) >> 13));              // rebias the exponent from 127 to 15
    }
}
