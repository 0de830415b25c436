using System.Buffers.Binary;
using System.Text;

namespace Qzo.Tests.IO;

/// <summary>Builds safetensors bytes by hand, independent of the writer under test.</summary>
public static class RawSafetensors
{
    /// <param name="headerLength">The length to declare; defaults to the header's real UTF-8 length.</param>
    public static byte[] Build(string header, int dataLength, ulong? headerLength = null) =>
        Build(Encoding.UTF8.GetBytes(header), new byte[dataLength], headerLength);

    public static byte[] Build(byte[] header, byte[] data, ulong? headerLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>The header as the reference writer pads it: trailing spaces up to a multiple of 8 bytes.</summary>
    public static byte[] PaddedHeader(string json)
    {
        var raw = Encoding.UTF8.GetBytes(json);
        var padded = new byte[(raw.Length + 7) / 8 * 8];
        padded.AsSpan().Fill((byte)' ');
        raw.CopyTo(padded, 0);
        return padded;
    }
}
