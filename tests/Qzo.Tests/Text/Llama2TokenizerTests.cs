using System.Text.Json.Nodes;
using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

public class Llama2TokenizerTests
{
    [Fact]
    public void FixtureIsTheRealLlama2Vocabulary()
    {
        var t = Llama2;
        Assert.True(Expected.Count >= 300, $"expected.jsonl has {Expected.Count} lines");
        Assert.Equal(32000, t.VocabSize);
        Assert.Equal((int?)0, t.UnkId);
        Assert.Equal((int?)1, t.BosId);
        Assert.Equal((int?)2, t.EosId);
        Assert.Null(t.PadId);
        Assert.Equal(15043, t.TokenToId("▁Hello"));
        Assert.Equal("<0x0A>", t.IdToToken(13));
        Assert.Null(t.TokenToId("no such token"));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.IdToToken(32000));
    }

    [Theory]
    [InlineData("Hello world!", new[] { 1, 15043, 3186, 29991 })]
    [InlineData("This is a test sentence.", new[] { 1, 910, 338, 263, 1243, 10541, 29889 })]
    public void MatchesIdsVerifiedAgainstHuggingFace(string text, int[] ids) => Assert.Equal(ids, Llama2.Encode(text));

    [Fact]
    public void EmojiEndsInByteTokens() => Assert.Equal(new[] { 243, 162, 155, 131 }, Llama2.Encode("😀")[^4..]);

    [Fact]
    public void TheFilesOwnPipelineMatchesTheNpmPackageOnEveryFixtureLine() =>
        AssertAll(Expected, e =>
        {
            var ids = Llama2File.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });

    [Fact]
    public void LlamaTokenizerMatchesTheNpmPackageExceptAfterALeadingSpace()
    {
        // The npm package encodes as SentencePiece does; transformers 5's LlamaTokenizer, which Qzo follows, differs only
        // on text that starts with a space: there it gives the npm ids of the text without that space.
        var leading = Expected.Where(e => LeadsWithSpace(e.Text)).ToList();
        Assert.True(leading.Count >= 20, $"{leading.Count} strings start with a space");
        AssertAll(Expected, e =>
        {
            var ids = Llama2.Encode(e.Text);
            var expected = LeadsWithSpace(e.Text) ? LlamaTokenizerIds(Llama2File, e.Text) : e.Ids;
            return ids.AsSpan().SequenceEqual(expected) ? null : $"{Show(e.Text)}: expected {Show(expected)}, got {Show(ids)}";
        });
        // SentencePiece's form has one more "▁" (" grabbed": "▁" + "▁grabbed"; transformers: "▁grabbed").
        AssertAll(leading, e => !Llama2.Encode(e.Text).AsSpan().SequenceEqual(e.Ids) ? null : Show(e.Text));
    }

    [Fact]
    public void WithoutSpecialTokensThereIsNoBos()
    {
        Assert.Equal(new[] { 15043, 3186, 29991 }, Llama2.Encode("Hello world!", addSpecialTokens: false));
        AssertAll(Expected,
            e => Llama2.Encode(e.Text, false).AsSpan().SequenceEqual(Llama2.Encode(e.Text).AsSpan(1)) ? null : Show(e.Text));
    }

    // HF Llama-2 decoding maps "▁" to a space and strips one leading space (the "▁" Metaspace added), so every string
    // round-trips except those containing "▁" itself (it comes back as a space in HF too) and those that start with a
    // space: Metaspace added no "▁" to them, so transformers' decoder strips their own first space.
    [Fact]
    public void DecodeInvertsEncode() =>
        AssertAll(Expected.Where(e => !e.Text.Contains('▁')), e =>
        {
            string back = Llama2.Decode(Llama2.Encode(e.Text));
            string expected = e.Text.StartsWith(' ') ? e.Text[1..] : e.Text;
            return back == expected ? null : $"{Show(e.Text)} came back as {Show(back)}";
        });

    [Fact]
    public void TheReplacementCharacterDecodesAsASpaceAsInHuggingFace() => Assert.Equal("a b", Llama2.Decode(Llama2.Encode("a▁b")));

    [Fact]
    public void EmptyTextIsBosOnly()
    {
        // HF: the Prepend normalizer skips empty text, the template still adds <s>. (The npm package returns [].)
        Assert.Equal(new[] { 1 }, Llama2.Encode(""));
        Assert.Empty(Llama2.Encode("", addSpecialTokens: false));
        Assert.Equal("", Llama2.Decode(new[] { 1 }));
    }

    [Fact]
    public void SpecialTokensInTextAreSplitOutAndEachPieceGetsThePrefix()
    {
        // HF legacy Llama behaviour: "<s>" matches the added token; the text after it is normalized separately ("▁Hello").
        Assert.Equal(new[] { 1, 1, 15043 }, Llama2.Encode("<s>Hello"));
        Assert.Equal(new[] { 1, 15043, 2 }, Llama2.Encode("Hello</s>"));
        Assert.Equal(Llama2.Encode("Hello").Concat(new[] { 2 }).Concat(Llama2.Encode("world", false)), Llama2.Encode("Hello</s>world"));
        Assert.Equal("Hello world", Llama2.Decode(Llama2.Encode("Hello</s>world")));
    }

    [Fact]
    public void DecodeCanKeepSpecialTokens()
    {
        Assert.Equal("<s> Hello world!", Llama2.Decode(Llama2.Encode("Hello world!"), skipSpecialTokens: false));
        Assert.Equal("<s> Hello world!</s>", Llama2.Decode(new[] { 1, 15043, 3186, 29991, 2 }, skipSpecialTokens: false));
        Assert.Equal("Hello world!", Llama2.Decode(new[] { 1, 15043, 3186, 29991, 2 }));
    }

    [Fact]
    public void InvalidByteRunsDecodeToOneReplacementCharacterPerByte()
    {
        Assert.Equal("\uFFFD\uFFFD", Llama2.Decode(new[] { 1, 243, 162 }));               // truncated 4-byte sequence
        Assert.Equal("a\uFFFD\uFFFD\uFFFDb", Llama2.Decode(new[] { 29874, 243, 162, 155, 29890 }));
        Assert.Equal("😀", Llama2.Decode(new[] { 243, 162, 155, 131 }));
    }

    [Fact]
    public void UnknownIdsAreSkippedWhenDecodingAsInHuggingFace() => Assert.Equal("Hello", Llama2.Decode(new[] { 15043, 99999, -1 }));

    [Fact]
    public void MergesAsPairsLoadIdentically()
    {
        string pairs = JsonWith(root =>
        {
            var model = root["model"]!.AsObject();
            var merges = new JsonArray();
            foreach (var m in model["merges"]!.AsArray())
            {
                var parts = m!.GetValue<string>().Split(' ');
                merges.Add(new JsonArray(parts[0], parts[1]));
            }
            model["merges"] = merges;
        });
        Assert.Contains("[\"▁\",\"t\"]", pairs.Replace("\\u2581", "▁"));
        var t = Tokenizer.FromJson(pairs);
        AssertAll(Expected, e => t.Encode(e.Text).AsSpan().SequenceEqual(e.Ids) ? null : Show(e.Text));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MetaspacePreTokenizerGivesTheSameIdsOnPlainText(bool split)
    {
        // Newer Llama files: no normalizer, Metaspace(prepend_scheme "first") instead. Same ids unless the text starts
        // with a space (Metaspace does not prepend another "▁") or, with split, contains a run of spaces
        // (runs of "▁" then become separate pieces).
        var t = Tokenizer.FromJson(JsonWith(root =>
        {
            root["normalizer"] = null;
            root["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = split
            };
        }));
        var plain = Expected.Where(e => !e.Text.StartsWith(' ') && !e.Text.StartsWith('▁')
            && !(split && (e.Text.Contains("  ") || e.Text.Contains("▁▁") || e.Text.Contains(" ▁") || e.Text.Contains("▁ "))));
        Assert.True(plain.Count() > 300);
        AssertAll(plain, e => t.Encode(e.Text).AsSpan().SequenceEqual(e.Ids)
            ? null
            : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(t.Encode(e.Text))}");
        // prepend_scheme "first": only the first piece gets "▁", not the text after a special token.
        Assert.Equal(new[] { 1, 15043, 2, t.TokenToId("world")!.Value }, t.Encode("Hello</s>world"));
        Assert.Equal(new[] { 1, 15043, 2, 3186 }, Llama2.Encode("Hello</s>world"));
    }

    [Fact]
    public void MetaspaceDecoderDropsTheReplacementInTheFirstToken()
    {
        var t = Tokenizer.FromJson(JsonWith(root =>
        {
            root["normalizer"] = null;
            root["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false
            };
            root["decoder"] = new JsonObject { ["type"] = "Sequence", ["decoders"] = new JsonArray(
                new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false },
                new JsonObject { ["type"] = "ByteFallback" },
                new JsonObject { ["type"] = "Fuse" }) };
        }));
        foreach (var s in new[] { "Hello world!", "Tiếng Việt 😀 and\ttabs\nnewlines", "a  b   c" })
            Assert.Equal(s, t.Decode(t.Encode(s)));
    }

    [Fact]
    public void RunByRunMergingEqualsOneHeapOverTheWholeText()
    {
        // A token with "▁" inside disables the run-by-run shortcut in BpeModel; the ids must not change.
        var t = Tokenizer.FromJson(JsonWith(root => root["model"]!["vocab"]!.AsObject()["a▁b"] = 32000));
        Assert.Equal(32001, t.VocabSize);
        AssertAll(Expected, e => t.Encode(e.Text).AsSpan().SequenceEqual(e.Ids) ? null : Show(e.Text));
    }
}
