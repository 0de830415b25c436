using System.Runtime.CompilerServices;
using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>bf16 as ushort inside kernels (ILGPU has no bf16 type); the same rounding as <see cref="Numerics.BFloat16"/>.</summary>
static class Bf16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort bits) => Interop.IntAsFloat((uint)bits << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float value)
    {
        uint u = Interop.FloatAsInt(value);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((u >> 16) | 0x40u);
        u += 0x7FFFu + ((u >> 16) & 1u);
        return (ushort)(u >> 16);
    }

    /// <summary>The first (lower-addressed) bf16 of a 32-bit pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Low(uint pair) => ToFloat((ushort)(pair & 0xFFFF));

    /// <summary>The second bf16 of a 32-bit pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float High(uint pair) => ToFloat((ushort)(pair >> 16));

    /// <summary>Two values rounded to bf16 and packed as one 32-bit pair (low first in memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Pack(float low, float high) => FromFloat(low) | ((uint)FromFloat(high) << 16);
}
