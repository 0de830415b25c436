using System.Runtime.InteropServices;
using Qzo.Numerics;

namespace Qzo.Quantization.Aqlm;

/// <summary>AQLM's code storage (aqlm.utils pack_int_data / unpack_int_data): signed int8 or int16, read modulo 2^bits.</summary>
public static class AqlmCodes
{
    /// <summary>Codes in [0, 2^bits) → the stored little-endian bytes (int8 for bits ≤ 8, else int16).</summary>
    public static byte[] Pack(ReadOnlySpan<int> codes, int bits)
    {
        int size = 1 << bits;
        if (bits <= 8)
        {
            var bytes = new byte[codes.Length];
            for (int i = 0; i < codes.Length; i++) bytes[i] = (byte)(sbyte)Signed(codes[i], size);
            return bytes;
        }
        var words = new short[codes.Length];
        for (int i = 0; i < codes.Length; i++) words[i] = (short)Signed(codes[i], size);
        return MemoryMarshal.AsBytes(words.AsSpan()).ToArray();
    }

    /// <summary>Stored bytes (I8 or I16) → codes in [0, 2^bits).</summary>
    public static int[] Unpack(ReadOnlySpan<byte> stored, DType dtype, int bits)
    {
        int mask = (1 << bits) - 1;
        if (dtype == DType.I8)
        {
            var codes = new int[stored.Length];
            for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)stored[i] & mask;
            return codes;
        }
        if (dtype != DType.I16) throw new ArgumentException($"AQLM codes are I8 or I16, not {dtype}");
        var words = MemoryMarshal.Cast<byte, short>(stored);
        var result = new int[words.Length];
        for (int i = 0; i < result.Length; i++) result[i] = words[i] & mask;
        return result;
    }

    static int Signed(int code, int size)
    {
        if ((uint)code >= (uint)size) throw new ArgumentOutOfRangeException(nameof(code), $"code {code} is outside [0, {size})");
        return code >= size / 2 ? code - size : code;
    }
}
