using System.Text;
using Qzo.Text;

namespace Qzo.Tests.Text;

/// <summary>Writes a SentencePiece ModelProto (protobuf wire format) for tests: pieces, a trainer spec, a normalizer spec.</summary>
internal static class SentencePieceModelWriter
{
    public static byte[] Write(IEnumerable<SentencePiece> pieces, int modelType = 2, bool byteFallback = true,
        bool addDummyPrefix = true, bool removeExtraWhitespaces = false, byte[]? charsMap = null, string normalizerName = "identity")
    {
        var model = new MemoryStream();
        foreach (var p in pieces)
        {
            var piece = new MemoryStream();
            Bytes(piece, 1, Encoding.UTF8.GetBytes(p.Piece));
            Tag(piece, 2, 5);
            piece.Write(BitConverter.GetBytes(p.Score));
            Varint(piece, 3, (ulong)p.Type);
            Bytes(model, 1, piece.ToArray());
        }
        var trainer = new MemoryStream();
        Varint(trainer, 3, (ulong)modelType);
        Varint(trainer, 35, byteFallback ? 1UL : 0);
        Varint(trainer, 43, unchecked((ulong)-1L)); // pad_id -1: a negative int32 is ten bytes on the wire
        Bytes(model, 2, trainer.ToArray());
        var normalizer = new MemoryStream();
        Bytes(normalizer, 1, Encoding.UTF8.GetBytes(normalizerName));
        if (charsMap is not null) Bytes(normalizer, 2, charsMap);
        Varint(normalizer, 3, addDummyPrefix ? 1UL : 0);
        Varint(normalizer, 4, removeExtraWhitespaces ? 1UL : 0);
        Bytes(model, 3, normalizer.ToArray());
        return model.ToArray();
    }

    static void Tag(Stream s, int field, int wireType) => RawVarint(s, (ulong)(field << 3 | wireType));

    static void Varint(Stream s, int field, ulong value)
    {
        Tag(s, field, 0);
        RawVarint(s, value);
    }

    static void Bytes(Stream s, int field, byte[] bytes)
    {
        Tag(s, field, 2);
        RawVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    static void RawVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }
}
