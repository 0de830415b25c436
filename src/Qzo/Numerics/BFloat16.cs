using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qzo.Numerics;

/// <summary>bfloat16 kept as its raw 16 bits (the top half of an IEEE float32); .NET has no bf16 type.</summary>
public static class BFloat16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Widens every value of <paramref name="bits"/> into <paramref name="destination"/> (as long), a vector at a time.</summary>
    public static void ToSingle(ReadOnlySpan<ushort> bits, Span<float> destination)
    {
        var to = MemoryMarshal.Cast<float, uint>(destination[..bits.Length]);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= bits.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                Vector.Widen(new Vector<ushort>(bits[i..]), out var low, out var high);
                Vector.ShiftLeft(low, 16).CopyTo(to[i..]);
                Vector.ShiftLeft(high, 16).CopyTo(to[(i + Vector<uint>.Count)..]);
            }
        for (; i < bits.Length; i++) to[i] = (uint)bits[i] << 16;
    }

    /// <summary>Round to nearest, ties to even, as PyTorch does; NaN stays a quiet NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFFFFFF) > 0x7F800000) return (ushort)((u >> 16) | 0x40);
        u += 0x7FFF + ((u >> 16) & 1);
        return (ushort)(u >> 16);
    }
}
