using System.Buffers.Binary;
using System.Text;

namespace Qzo.Text;

/// <summary>
/// A minimal protobuf wire-format reader (varint, 64-bit, length-delimited, 32-bit fields), enough for SentencePiece's
/// ModelProto. Malformed input raises <see cref="TokenizerFormatException"/>.
/// </summary>
internal ref struct ProtobufReader(ReadOnlySpan<byte> data)
{
    readonly ReadOnlySpan<byte> _data = data;
    int _position;

    public enum WireType { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 }

    public readonly bool AtEnd => _position >= _data.Length;

    /// <summary>The next field's number and wire type.</summary>
    public (int Field, WireType Type) ReadTag()
    {
        ulong tag = ReadVarint();
        int field = (int)(tag >> 3);
        var type = (WireType)(tag & 7);
        if (field <= 0 || field > 536_870_911
            || type is not (WireType.Varint or WireType.Fixed64 or WireType.LengthDelimited or WireType.Fixed32))
            throw Malformed($"bad field tag {tag}");
        return (field, type);
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _data.Length) throw Malformed("truncated varint");
            byte b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw Malformed("varint longer than 10 bytes");
    }

    /// <summary>An int32 field: negative values are sign-extended to 64 bits on the wire.</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    public bool ReadBool() => ReadVarint() != 0;

    public float ReadFloat()
    {
        var bytes = Take(4);
        return BinaryPrimitives.ReadSingleLittleEndian(bytes);
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position)) throw Malformed($"a length-delimited field of {length} bytes runs past the end");
        return Take((int)length);
    }

    public string ReadString()
    {
        var bytes = ReadBytes();
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Malformed("a string field is not valid UTF-8"); }
    }

    public void Skip(WireType type)
    {
        switch (type)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: Take(8); break;
            case WireType.LengthDelimited: ReadBytes(); break;
            case WireType.Fixed32: Take(4); break;
        }
    }

    /// <summary>Checks the wire type a field must have.</summary>
    public static void Expect(int field, WireType actual, WireType expected, string message)
    {
        if (actual != expected) throw new TokenizerFormatException(
            $"{message} field {field} has wire type {(int)actual}, expected {(int)expected} (not a SentencePiece model?)");
    }

    ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position) throw Malformed("truncated field");
        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    readonly TokenizerFormatException Malformed(string what) => new($"not a valid protobuf message ({what} at byte {_position})");
}
