using System.Numerics;
using System.Runtime.InteropServices;

namespace Qzo.Numerics;

/// <summary>
/// Counts NaN and ±Inf in raw little-endian floating-point data without converting it: a value is non-finite
/// exactly when its exponent bits are all ones, so one vectorized AND + compare per lane finds them. The common
/// case (none) is a single pass at memory speed; counting runs only once something was found.
/// </summary>
public static class NonFiniteValues
{
    /// <summary>
    /// The number of non-finite values among <paramref name="byteLength"/> bytes of <paramref name="dtype"/> at <paramref name="data"/>.
    /// </summary>
    public static unsafe long Count(DType dtype, byte* data, long byteLength)
    {
        const long chunk = 1L << 30; // a multiple of every element size, and within a span's reach
        long total = 0;
        for (long done = 0; done < byteLength; done += chunk)
            total += Count(dtype, new ReadOnlySpan<byte>(data + done, (int)Math.Min(chunk, byteLength - done)));
        return total;
    }

    public static long Count(DType dtype, ReadOnlySpan<byte> data) => dtype switch
    {
        DType.F32 => Count(MemoryMarshal.Cast<byte, uint>(data), 0x7F80_0000u),
        DType.F16 => Count(MemoryMarshal.Cast<byte, ushort>(data), (ushort)0x7C00),
        DType.BF16 => Count(MemoryMarshal.Cast<byte, ushort>(data), (ushort)0x7F80),
        DType.F64 => Count(MemoryMarshal.Cast<byte, ulong>(data), 0x7FF0_0000_0000_0000ul),
        _ => throw new ArgumentException($"{dtype} is not a floating-point type", nameof(dtype)),
    };

    static long Count<T>(ReadOnlySpan<T> values, T exponent) where T : unmanaged, IBinaryInteger<T>
    {
        if (!Any(values, exponent)) return 0;
        long count = 0;
        foreach (var v in values) if ((v & exponent) == exponent) count++;
        return count;
    }

    static bool Any<T>(ReadOnlySpan<T> values, T exponent) where T : unmanaged, IBinaryInteger<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<T>.Count)
        {
            var mask = new Vector<T>(exponent);
            var found = Vector<T>.Zero;
            var vectors = MemoryMarshal.Cast<T, Vector<T>>(values);
            foreach (var v in vectors) found |= Vector.Equals(v & mask, mask);
            if (found != Vector<T>.Zero) return true;
            i = vectors.Length * Vector<T>.Count;
        }
        for (; i < values.Length; i++) if ((values[i] & exponent) == exponent) return true;
        return false;
    }
}
