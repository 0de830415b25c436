using System.Runtime.CompilerServices;

namespace Qzo.Numerics;

/// <summary>Other draws from the same Philox stream layout as <see cref="GaussianDirection"/> (synthetic weights).</summary>
public static class RandomValues
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Bits(ulong seed, int stream, long index) =>
        Philox.Generate((uint)index, (uint)((ulong)index >> 32), (uint)stream, 1u, (uint)seed, (uint)(seed >> 32)).X0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Uniform(ulong seed, int stream, long index, float low, float high) =>
        low + (high - low) * ((Bits(seed, stream, index) >> 8) * (1.0f / 16777216.0f));
}
