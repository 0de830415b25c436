using System.Text;

namespace Qzo.IO;

/// <summary>
/// UTF-8 that refuses invalid bytes instead of replacing them with U+FFFD: JSON must be UTF-8 (RFC 8259 §8.1),
/// and Python's readers refuse such files too, so a row silently changed by replacement would train on other text.
/// </summary>
public static class StrictUtf8
{
    public static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// The text of <paramref name="bytes"/> (a leading byte-order mark dropped), or null with the byte offset of the first invalid byte.
    /// </summary>
    public static string? TryDecode(ReadOnlySpan<byte> bytes, out int invalidAt)
    {
        int start = bytes.StartsWith(ByteOrderMark) ? ByteOrderMark.Length : 0;
        try
        {
            invalidAt = -1;
            return Encoding.GetString(bytes[start..]);
        }
        catch (DecoderFallbackException e)
        {
            invalidAt = start + Math.Max(e.Index, 0);
            return null;
        }
    }

    /// <summary>A whole text file; invalid UTF-8 is refused with the line it is on.</summary>
    public static string ReadAllText(string path, string kind = "file")
    {
        var bytes = TextFiles.ReadAllBytes(path, kind);
        return TryDecode(bytes, out int at) ?? throw new QzoException($"{path}:{LineOf(bytes, at)}: not valid UTF-8");
    }

    static int LineOf(ReadOnlySpan<byte> bytes, int offset) => bytes[..Math.Min(offset, bytes.Length)].Count((byte)'\n') + 1;
}
