using System.Text.Json.Nodes;
using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// T5's SentencePiece Unigram tokenizer (Stable Diffusion 3's tokenizer_3/) on tests/fixtures/t5-unigram: a genuine
/// Unigram model trained by spm_train with T5's settings (nmt_nfkc character map, pad 0, eos 1, unk 2), written by
/// tests/tokenizer-fixtures/make-t5-fixture.mjs with spm_encode's ids (EOS appended) for a few hundred strings.
/// Tokenizer.Load gives transformers 5's T5Tokenizer; SentencePiece's own form is checked against spm_encode line by
/// line, and T5Tokenizer against it wherever the two normalizers agree.
/// </summary>
public class T5TokenizerTests
{
    internal static readonly TokenizerFixture Fixture = new("t5-unigram");

    static readonly Lazy<Tokenizer> s_sentencePiece = new(() =>
        SentencePieceTokenizerTests.AsSentencePiece(Fixture.Folder, modelFile: "spiece.model"));
    static readonly Lazy<SentencePieceModel> s_model = new(() =>
        SentencePieceModel.Parse(File.ReadAllBytes(Path.Combine(Fixture.Folder, "spiece.model"))));
    static readonly Lazy<PrecompiledCharsMap> s_map = new(() => new PrecompiledCharsMap(s_model.Value.PrecompiledCharsMap));

    /// <summary>SentencePiece's encoding of the folder's spiece.model (spm_encode without EOS).</summary>
    static Tokenizer SentencePieceForm => s_sentencePiece.Value;

    [Fact]
    public void TheModelIsReadAsSentencePieceWrote()
    {
        var model = s_model.Value;
        Assert.Equal(2000, model.Pieces.Count);
        Assert.Equal(SentencePieceModelType.Unigram, model.ModelType);
        Assert.False(model.ByteFallback);
        Assert.Equal((2, -1, 1, 0), (model.UnkId, model.BosId, model.EosId, model.PadId));
        Assert.Equal(new SentencePiece("<pad>", 0, SentencePieceType.Control), model.Pieces[0]);
        Assert.Equal(new SentencePiece("<unk>", 0, SentencePieceType.Unknown), model.Pieces[2]);
        Assert.Equal(("nmt_nfkc", true, true, true),
            (model.NormalizerName, model.AddDummyPrefix, model.RemoveExtraWhitespaces, model.EscapeWhitespaces));
        Assert.True(model.PrecompiledCharsMapLength > 100_000, $"{model.PrecompiledCharsMapLength}-byte character map");
        Assert.Equal(model.PrecompiledCharsMapLength, s_map.Value.ByteLength);
    }

    [Fact]
    public void SentencePieceFormMatchesSpmEncodeOnEveryLine()
    {
        // The character map's longest rules, SentencePiece's whitespace handling and one Viterbi pass: spm_encode's ids.
        Assert.True(Fixture.Expected.Count >= 300, $"expected.jsonl has {Fixture.Expected.Count} lines");
        AssertAll(Fixture.Expected, e =>
        {
            int[] ids = [.. SentencePieceForm.Encode(e.Text), 1];
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });
    }

    /// <summary>T5Tokenizer's text before the model: HF's Precompiled (per grapheme), then WhitespaceSplit.</summary>
    static string HfNormalized(string text) =>
        string.Join(" ", new PrecompiledNormalizer(s_map.Value).Normalize(text)
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>SentencePiece's normalized text, spaces unescaped and without the dummy prefix.</summary>
    static string SentencePieceNormalized(string text) =>
        new SentencePieceNormalizer(s_map.Value, addDummyPrefix: false, removeExtraWhitespaces: true, escapeWhitespaces: false)
            .Normalize(text);

    [Fact]
    public void T5TokenizerMatchesSpmEncodeWhereTheNormalizersAgree()
    {
        // Where HF's per-grapheme Precompiled + WhitespaceSplit and SentencePiece's normalizer give the same text,
        // T5Tokenizer must give spm_encode's ids: T5's pieces never hold an inner "▁", so one Viterbi pass per word
        // equals SentencePiece's pass over the whole text. Elsewhere (a grapheme whose first character has a rule of its
        // own: HF replaces the whole grapheme by that rule) the ids are SentencePiece's for HF's normalized text.
        var t = Fixture.Tokenizer;
        var disagree = Fixture.Expected.Where(e => HfNormalized(e.Text) != SentencePieceNormalized(e.Text)).Select(e => e.Text).ToList();
        Assert.Contains("\uFF21\u0301", disagree); // "Ａ́": HF → "A" (Ａ's own rule), SentencePiece → "Á"
        Assert.True(disagree.Count <= 3,
            $"{disagree.Count} lines where the normalizers differ: {string.Join(", ", disagree.Select(Show))}");
        AssertAll(Fixture.Expected, e =>
        {
            var ids = t.Encode(e.Text);
            int[] expected = disagree.Contains(e.Text) ? [.. SentencePieceForm.Encode(HfNormalized(e.Text)), 1] : e.Ids;
            return ids.AsSpan().SequenceEqual(expected) ? null : $"{Show(e.Text)}: expected {Show(expected)}, got {Show(ids)}";
        });
    }

    [Fact]
    public void PrecompiledNormalizerAppliesTheMapPerGrapheme()
    {
        var hf = new PrecompiledNormalizer(s_map.Value);
        Assert.Equal("ABC fullwidth 123", hf.Normalize("ＡＢＣ ｆｕｌｌｗｉｄｔｈ １２３"));
        Assert.Equal("fi fl", hf.Normalize("ﬁ ﬂ"));
        Assert.Equal("\u00e9", hf.Normalize("e\u0301")); // composed, as NFKC
        Assert.Equal("A", hf.Normalize("\uFF21\u0301")); // the shortest rule (Ａ → A) takes the whole grapheme
        Assert.Equal("\u00c1", SentencePieceNormalized("\uFF21\u0301")); // SentencePiece: the longest rule
        Assert.Equal("plain text", hf.Normalize("plain text"));
    }

    [Fact]
    public void SpecialTokensAndIdsAreT5s()
    {
        var t = Fixture.Tokenizer;
        Assert.Equal((int?)1, t.EosId);
        Assert.Equal((int?)0, t.PadId);
        Assert.Equal((int?)2, t.UnkId);
        Assert.Null(t.BosId);
        Assert.Equal(2100, t.VocabSize);
        Assert.Equal((int?)2099, t.TokenToId("<extra_id_0>"));
        Assert.Equal((int?)2000, t.TokenToId("<extra_id_99>"));
        // Special tokens in the text are matched whole, before normalization.
        int[] cat = t.Encode("cat", addSpecialTokens: false);
        Assert.Equal([.. cat, 1, 0, 2099, .. cat, 1], t.Encode("cat</s><pad><extra_id_0>cat"));
        // Runs of characters in no piece become one <unk>.
        Assert.Equal([3, 2, 1], t.Encode("𠀀𠀁𠀂"));
    }

    [Fact]
    public void SpieceModelAloneGivesTheSameTokenizer()
    {
        // transformers 5 without tokenizer.json: the pieces, then the sentinels <extra_id_99> … <extra_id_0>.
        using var temp = Fixture.CopyFiles("spiece.model", "tokenizer_config.json");
        var fromModel = Tokenizer.Load(temp.Path);
        Assert.Equal(2100, fromModel.VocabSize);
        Assert.Equal((int?)2099, fromModel.TokenToId("<extra_id_0>"));
        Assert.Equal(((int?)1, (int?)0, (int?)2), (fromModel.EosId, fromModel.PadId, fromModel.UnkId));
        AssertAll(Fixture.Expected, e =>
        {
            int[] want = Fixture.Tokenizer.Encode(e.Text), got = fromModel.Encode(e.Text);
            return got.AsSpan().SequenceEqual(want) ? null : $"{Show(e.Text)}: expected {Show(want)}, got {Show(got)}";
        });
        // Without a config, the sentinels are the default 100.
        using var bare = Fixture.CopyFiles("spiece.model");
        Assert.Equal(2100, Tokenizer.Load(bare.Path).VocabSize);
    }

    [Fact]
    public void TokenizerJsonAsWrittenGivesTheSameIds()
    {
        // The file's own pipeline (no tokenizer_config.json: TokenizersBackend): Precompiled, WhitespaceSplit,
        // Metaspace, Unigram, the "$A </s>" template. It is the pipeline T5Tokenizer builds, so the ids agree.
        var file = Tokenizer.FromJson(File.ReadAllText(Path.Combine(Fixture.Folder, "tokenizer.json")));
        AssertAll(Fixture.Expected, e =>
        {
            int[] want = Fixture.Tokenizer.Encode(e.Text), got = file.Encode(e.Text);
            return got.AsSpan().SequenceEqual(want) ? null : $"{Show(e.Text)}: expected {Show(want)}, got {Show(got)}";
        });
    }

    [Fact]
    public void T5TokenizerIgnoresTheFilesOwnPreTokenizer()
    {
        // transformers' class keeps only the pieces, the character map and the added tokens of tokenizer.json: a file
        // whose pre-tokenizer would keep a trailing "▁" piece still gives the class's ids.
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture.Folder, "tokenizer.json")))!.AsObject();
        root["pre_tokenizer"] = JsonNode.Parse(
            """{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}""");
        string config = File.ReadAllText(Path.Combine(Fixture.Folder, "tokenizer_config.json"));
        var edited = Tokenizer.FromJson(root.ToJsonString(), config);
        var asWritten = Tokenizer.FromJson(root.ToJsonString());
        Assert.Equal(Fixture.Tokenizer.Encode("a cat  "), edited.Encode("a cat  "));
        Assert.NotEqual(edited.Encode("a cat  "), asWritten.Encode("a cat  "));
    }

    [Fact]
    public void EncodePaddedTruncatesBeforeEosAndPadsWithPadId()
    {
        // T5TokenizerFast(padding="max_length", max_length=L, truncation=True): the ids cut to L − 1, then </s>, then <pad> = 0.
        var t = Fixture.Tokenizer;
        string text = "a photo of an astronaut riding a horse on mars, highly detailed, cinematic lighting, portrait of a dog";
        int[] full = t.Encode(text, addSpecialTokens: false);
        Assert.True(full.Length > 16, $"{full.Length} ids");
        Assert.Equal([.. full[..15], 1], t.EncodePadded(text, 16));
        int[] cat = t.Encode("a cat", addSpecialTokens: false);
        Assert.Equal([.. cat, 1, .. Enumerable.Repeat(0, 16 - cat.Length - 1)], t.EncodePadded("a cat", 16));
        Assert.Equal([1, .. Enumerable.Repeat(0, 15)], t.EncodePadded("", 16));
        Assert.Equal([.. cat, 1], t.EncodePadded("a cat", cat.Length + 1));
        Assert.Equal([1], t.EncodePadded("a cat", 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.EncodePadded("a cat", 0));
    }

    [Fact]
    public void DecodeJoinsPiecesWithSpaces()
    {
        var t = Fixture.Tokenizer;
        // clean_up_tokenization_spaces (the config sets it; transformers 5 applies it to Unigram models): " ," → ",".
        Assert.Equal([3, 8], t.Encode(" ,", addSpecialTokens: false));
        Assert.Equal("cat, dog", t.Decode(t.Encode("cat , dog")));
        Assert.Equal("a photo of a cat", t.Decode(t.Encode("a photo of a cat")));
        Assert.StartsWith("a photo of a cat</s><pad>", t.Decode(t.EncodePadded("  a photo of a   cat ", 16), skipSpecialTokens: false));
    }
}
