using System.Runtime.CompilerServices;
using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>IEEE half as ushort inside kernels (exact widening to float by bit manipulation, subnormals included).</summary>
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
}
