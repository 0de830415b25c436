using System.Text;

namespace Qzo.Text;

/// <summary>
/// GPT-2's bytes_to_unicode: each byte as one printable character. Bytes 33–126, 161–172 and 174–255 stand for
/// themselves; the other 68 map, in increasing order, to U+0100, U+0101, … (space → "Ġ", "\n" → "Ċ").
/// </summary>
internal static class ByteLevelAlphabet
{
    static readonly char[] s_byteToChar = BuildTable();
    static readonly Dictionary<char, byte> s_charToByte = Enumerable.Range(0, 256).ToDictionary(b => s_byteToChar[b], b => (byte)b);

    static char[] BuildTable()
    {
        var table = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            table[b] = printable ? (char)b : (char)(256 + next++);
        }
        return table;
    }

    public static char CharOf(byte b) => s_byteToChar[b];

    public static bool TryGetByte(char c, out byte b) => s_charToByte.TryGetValue(c, out b);

    /// <summary>The UTF-8 bytes of <paramref name="text"/>, one character each.</summary>
    public static string Encode(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        return string.Create(bytes.Length, bytes, static (chars, b) =>
        {
            for (int i = 0; i < b.Length; i++) chars[i] = s_byteToChar[b[i]];
        });
    }
}
