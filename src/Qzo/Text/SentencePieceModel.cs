using W = Qzo.Text.ProtobufReader.WireType;

namespace Qzo.Text;

internal enum SentencePieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

internal enum SentencePieceModelType { Unigram = 1, Bpe = 2, Word = 3, Char = 4 }

internal readonly record struct SentencePiece(string Piece, float Score, SentencePieceType Type);

/// <summary>
/// The parts of SentencePiece's ModelProto (sentencepiece_model.proto) that decide how text is encoded; defaults are
/// the proto's. Field numbers: ModelProto{1 pieces, 2 trainer_spec, 3 normalizer_spec}; SentencePiece{1 piece,
/// 2 score, 3 type}; TrainerSpec{3 model_type, 24 treat_whitespace_as_suffix, 35 byte_fallback, 40–43 unk/bos/eos/pad id};
/// NormalizerSpec{1 name, 2 precompiled_charsmap, 3 add_dummy_prefix, 4 remove_extra_whitespaces, 5 escape_whitespaces}.
/// </summary>
internal sealed record SentencePieceModel(
    IReadOnlyList<SentencePiece> Pieces,
    SentencePieceModelType ModelType,
    bool ByteFallback,
    bool TreatWhitespaceAsSuffix,
    int UnkId, int BosId, int EosId, int PadId,
    string NormalizerName,
    byte[] PrecompiledCharsMap,
    bool AddDummyPrefix,
    bool RemoveExtraWhitespaces,
    bool EscapeWhitespaces)
{
    public static SentencePieceModel Parse(ReadOnlySpan<byte> data)
    {
        var pieces = new List<SentencePiece>();
        var model = new SentencePieceModel(pieces, SentencePieceModelType.Unigram, false, false, 0, 1, 2, -1, "", [], true, true,
            true);
        var reader = new ProtobufReader(data);
        while (!reader.AtEnd)
        {
            var (field, type) = reader.ReadTag();
            switch (field)
            {
                case 1:
                    ProtobufReader.Expect(field, type, W.LengthDelimited, "ModelProto");
                    pieces.Add(ParsePiece(reader.ReadBytes(), pieces.Count));
                    break;
                case 2:
                    ProtobufReader.Expect(field, type, W.LengthDelimited, "ModelProto");
                    model = ParseTrainerSpec(reader.ReadBytes(), model);
                    break;
                case 3:
                    ProtobufReader.Expect(field, type, W.LengthDelimited, "ModelProto");
                    model = ParseNormalizerSpec(reader.ReadBytes(), model);
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }
        if (pieces.Count == 0) throw new TokenizerFormatException("no pieces (not a SentencePiece model?)");
        return model;
    }

    static SentencePiece ParsePiece(ReadOnlySpan<byte> data, int index)
    {
        string? piece = null;
        float score = 0;
        var pieceType = SentencePieceType.Normal;
        var reader = new ProtobufReader(data);
        while (!reader.AtEnd)
        {
            var (field, type) = reader.ReadTag();
            switch (field)
            {
                case 1: ProtobufReader.Expect(field, type, W.LengthDelimited, "SentencePiece"); piece = reader.ReadString(); break;
                case 2: ProtobufReader.Expect(field, type, W.Fixed32, "SentencePiece"); score = reader.ReadFloat(); break;
                case 3:
                    ProtobufReader.Expect(field, type, W.Varint, "SentencePiece");
                    int value = reader.ReadInt32();
                    pieceType = Enum.IsDefined((SentencePieceType)value) ? (SentencePieceType)value
                        : throw new TokenizerFormatException($"piece {index}: unknown type {value}");
                    break;
                default: reader.Skip(type); break;
            }
        }
        if (string.IsNullOrEmpty(piece)) throw new TokenizerFormatException($"piece {index} is empty");
        return new SentencePiece(piece, score, pieceType);
    }

    static SentencePieceModel ParseTrainerSpec(ReadOnlySpan<byte> data, SentencePieceModel model)
    {
        var reader = new ProtobufReader(data);
        while (!reader.AtEnd)
        {
            var (field, type) = reader.ReadTag();
            if (field is 3 or 24 or 35 or 40 or 41 or 42 or 43) ProtobufReader.Expect(field, type, W.Varint, "TrainerSpec");
            model = field switch
            {
                3 => model with { ModelType = (SentencePieceModelType)reader.ReadInt32() },
                24 => model with { TreatWhitespaceAsSuffix = reader.ReadBool() },
                35 => model with { ByteFallback = reader.ReadBool() },
                40 => model with { UnkId = reader.ReadInt32() },
                41 => model with { BosId = reader.ReadInt32() },
                42 => model with { EosId = reader.ReadInt32() },
                43 => model with { PadId = reader.ReadInt32() },
                _ => Skip(ref reader, type, model),
            };
        }
        return model;
    }

    static SentencePieceModel ParseNormalizerSpec(ReadOnlySpan<byte> data, SentencePieceModel model)
    {
        var reader = new ProtobufReader(data);
        while (!reader.AtEnd)
        {
            var (field, type) = reader.ReadTag();
            ProtobufReader.Expect(field, type, field is 1 or 2 ? W.LengthDelimited : field is 3 or 4 or 5 ? W.Varint : type,
                "NormalizerSpec");
            model = field switch
            {
                1 => model with { NormalizerName = reader.ReadString() },
                2 => model with { PrecompiledCharsMap = reader.ReadBytes().ToArray() },
                3 => model with { AddDummyPrefix = reader.ReadBool() },
                4 => model with { RemoveExtraWhitespaces = reader.ReadBool() },
                5 => model with { EscapeWhitespaces = reader.ReadBool() },
                _ => Skip(ref reader, type, model),
            };
        }
        return model;
    }

    static SentencePieceModel Skip(ref ProtobufReader reader, W type, SentencePieceModel model)
    {
        reader.Skip(type);
        return model;
    }

    public int PrecompiledCharsMapLength => PrecompiledCharsMap.Length;

    /// <summary>The piece with id <paramref name="id"/>, or null for a negative (disabled) or out-of-range id.</summary>
    public string? PieceAt(int id) => id >= 0 && id < Pieces.Count ? Pieces[id].Piece : null;
}
