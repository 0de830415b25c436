using System.Text.Json.Nodes;
using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>Single rules of the HF pipeline on tiny hand-written tokenizers.</summary>
public class TokenizerPipelineTests
{
    static Tokenizer Make(string[] vocab, string[] merges, Action<JsonObject, JsonObject>? edit = null)
    {
        var vocabJson = new JsonObject();
        for (int i = 0; i < vocab.Length; i++) vocabJson[vocab[i]] = i;
        var model = new JsonObject
        {
            ["type"] = "BPE", ["vocab"] = vocabJson, ["merges"] = new JsonArray(merges.Select(m => (JsonNode)m).ToArray())
        };
        var root = new JsonObject { ["version"] = "1.0", ["model"] = model };
        edit?.Invoke(root, model);
        return Tokenizer.FromJson(root.ToJsonString());
    }

    static JsonObject Added(int id, string content, bool lstrip = false, bool rstrip = false, bool singleWord = false,
        bool normalized = false, bool special = true) =>
        new()
        {
            ["id"] = id, ["content"] = content, ["lstrip"] = lstrip, ["rstrip"] = rstrip, ["single_word"] = singleWord,
            ["normalized"] = normalized, ["special"] = special
        };

    [Fact]
    public void LowestRankMergesFirst()
    {
        string[] vocab = ["a", "b", "c", "ab", "bc"];
        Assert.Equal(new[] { 0, 4 }, Make(vocab, ["b c", "a b"]).Encode("abc"));
        Assert.Equal(new[] { 3, 2 }, Make(vocab, ["a b", "b c"]).Encode("abc"));
    }

    [Fact]
    public void EqualRanksMergeLeftmostFirst()
    {
        var t = Make(["a", "aa"], ["a a"]);
        Assert.Equal(new[] { 1, 0 }, t.Encode("aaa"));
        Assert.Equal(new[] { 1, 1 }, t.Encode("aaaa"));
        Assert.Equal(new[] { 1, 1, 0 }, t.Encode("aaaaa"));
    }

    [Fact]
    public void UnknownCharactersBecomeUnkFusedOrNot()
    {
        string[] vocab = ["<unk>", "a"];
        Assert.Equal(new[] { 0, 1, 0 }, Make(vocab, [], (_, m) => { m["unk_token"] = "<unk>"; m["fuse_unk"] = true; }).Encode("xya😀"));
        Assert.Equal(new[] { 0, 0, 1, 0 },
            Make(vocab, [], (_, m) => { m["unk_token"] = "<unk>"; m["fuse_unk"] = false; }).Encode("xya😀"));
        Assert.Equal(new[] { 1 }, Make(vocab, []).Encode("xya")); // no unk token: HF drops the character
    }

    [Fact]
    public void ByteFallbackNeedsEveryByteTokenElseUnk()
    {
        var t = Make(["<unk>", "a", "<0xC3>", "<0xA9>"], [], (_, m) => { m["unk_token"] = "<unk>"; m["byte_fallback"] = true; });
        Assert.Equal(new[] { 1, 2, 3 }, t.Encode("aé"));
        Assert.Equal(new[] { 1, 0 }, t.Encode("aü")); // ü is C3 BC: <0xBC> missing
    }

    [Fact]
    public void IgnoreMergesTakesWholeVocabPieces()
    {
        string[] vocab = ["a", "b", "c", "ab", "abc"];
        Assert.Equal(new[] { 3, 2 }, Make(vocab, ["a b"]).Encode("abc"));
        Assert.Equal(new[] { 4 }, Make(vocab, ["a b"], (_, m) => m["ignore_merges"] = true).Encode("abc"));
    }

    [Fact]
    public void ContinuingSubwordPrefixIsAppliedAfterTheFirstCharacter()
    {
        var t = Make(["a", "##b", "ab", "##c"], ["a ##b"], (_, m) => m["continuing_subword_prefix"] = "##");
        Assert.Equal(new[] { 2, 3 }, t.Encode("abc"));
    }

    [Fact]
    public void VersionHeaderLinesInMergesAreIgnored() =>
        Assert.Equal(new[] { 2 }, Make(["a", "b", "ab"], ["#version: 0.2", "a b"]).Encode("ab"));

    [Fact]
    public void AddedTokensHonourLStripRStripAndSingleWord()
    {
        string[] vocab = ["a", "b", " ", "c", "t", "s"];
        var lstrip = Make(vocab, [], (r, _) => r["added_tokens"] = new JsonArray(Added(6, "<x>", lstrip: true)));
        Assert.Equal(new[] { 0, 6, 1 }, lstrip.Encode("a  <x>b"));
        Assert.Equal(new[] { 0, 6, 2, 1 }, lstrip.Encode("a <x> b"));
        var rstrip = Make(vocab, [], (r, _) => r["added_tokens"] = new JsonArray(Added(6, "<x>", rstrip: true)));
        Assert.Equal(new[] { 0, 2, 6, 1 }, rstrip.Encode("a <x>  b"));
        var word = Make(vocab, [], (r, _) => r["added_tokens"] = new JsonArray(Added(6, "cat", singleWord: true)));
        Assert.Equal(new[] { 1, 2, 6, 2, 5 }, word.Encode("b cat s"));
        Assert.Equal(new[] { 3, 0, 4, 5 }, word.Encode("cats"));
        Assert.Equal(new[] { 6 }, word.Encode("cat"));
        Assert.Equal(new[] { 6, 6, 6 }, Make(vocab, [], (r, _) => r["added_tokens"] = new JsonArray(Added(6, "cat"))).Encode("catcatcat"));
    }

    [Fact]
    public void LongestAddedTokenWinsAtTheSamePosition()
    {
        var t = Make(["a", "b"], [], (r, _) => r["added_tokens"] = new JsonArray(Added(2, "ab"), Added(3, "aba")));
        Assert.Equal(new[] { 3, 1 }, t.Encode("abab"));
        Assert.Equal("ababa", t.Decode(t.Encode("ababa"), skipSpecialTokens: false).Replace(" ", ""));
    }

    [Fact]
    public void NormalizedAddedTokensMatchTheNormalizedText()
    {
        var t = Make(["H", "i", "h", "▁"], [], (r, _) =>
        {
            r["normalizer"] = new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "h" }, ["content"] = "H" };
            r["added_tokens"] = new JsonArray(Added(4, "hi", normalized: true, special: false));
        });
        Assert.Equal(new[] { 4, 4 }, t.Encode("hiHi"));
        Assert.Equal(4, t.TokenToId("hi"));
    }

    [Fact]
    public void TemplateCanAddEos()
    {
        var t = Make(["<s>", "</s>", "a"], [], (r, _) => r["post_processor"] = JsonNode.Parse("""
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                        {"SpecialToken": {"id": "</s>", "type_id": 0}}],
             "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                                "</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}}
            """));
        Assert.Equal(new[] { 0, 2, 2, 1 }, t.Encode("aa"));
        Assert.Equal(new[] { 2, 2 }, t.Encode("aa", addSpecialTokens: false));
    }

    [Fact]
    public void WithTokenizerJsonTheFilesPostProcessorDecidesBosAndEos()
    {
        // transformers 5 drops add_bos_token / add_eos_token from tokenizer_config.json when there is a tokenizer.json
        // and keeps the file's template (transformers 4's LlamaTokenizerFast rebuilt it from them).
        string json = Llama2Fixture.Json;
        Assert.Equal(new[] { 1, 15043 },
            Tokenizer.FromJson(json, """{"tokenizer_class": "LlamaTokenizerFast", "add_eos_token": true}""").Encode("Hello"));
        Assert.Equal(new[] { 1, 15043 },
            Tokenizer.FromJson(json, """{"tokenizer_class": "LlamaTokenizer", "add_bos_token": false}""").Encode("Hello"));
        Assert.Equal(new[] { 1, 15043 },
            Tokenizer.FromJson(json, """{"tokenizer_class": "PreTrainedTokenizerFast", "add_eos_token": true}""").Encode("Hello"));
        var t = Tokenizer.FromJson(json,
            """{"bos_token": {"content": "<s>", "__type": "AddedToken"}, "pad_token": "<unk>", "eos_token": "</s>"}""");
        Assert.Equal((int?)0, t.PadId);
        Assert.Equal((int?)1, t.BosId);
    }

    [Fact]
    public void TokenizerClassDecidesThePipeline()
    {
        // Llama-2's file has a Prepend normalizer; LlamaTokenizer replaces it with Metaspace, which gives a leading
        // space no second "▁". With legacy: false (transformers 5's default) only the start of the text gets "▁".
        string json = Llama2Fixture.Json;
        var file = Tokenizer.FromJson(json);
        var legacy = Tokenizer.FromJson(json, """{"tokenizer_class": "LlamaTokenizerFast", "legacy": true}""");
        var first = Tokenizer.FromJson(json, """{"tokenizer_class": "LlamaTokenizer"}""");
        var never = Tokenizer.FromJson(json, """{"tokenizer_class": "LlamaTokenizer", "add_prefix_space": false}""");
        int hello = 15043, world = 3186, worldNoSpace = file.TokenToId("world")!.Value;
        Assert.Equal(new[] { 1, 29871, hello }, file.Encode(" Hello"));
        Assert.Equal(new[] { 1, hello }, legacy.Encode(" Hello"));
        Assert.Equal(new[] { 1, hello }, first.Encode(" Hello"));
        Assert.Equal(new[] { 1, hello, 2, world }, legacy.Encode("Hello</s>world"));
        Assert.Equal(new[] { 1, hello, 2, worldNoSpace }, first.Encode("Hello</s>world"));
        Assert.Equal(new[] { 1, worldNoSpace }, never.Encode("world"));
        Assert.Equal("Hello world", legacy.Decode(legacy.Encode("Hello</s>world")));
        Assert.Equal(" world", never.Decode(never.Encode(" world")));
    }

    [Fact]
    public void StripDecoderRemovesAtMostTheGivenCounts()
    {
        var t = Make(["▁", "a"], [], (r, _) => r["decoder"] = JsonNode.Parse("""
            {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "Fuse"},
                                                {"type": "Strip", "content": " ", "start": 2, "stop": 1}]}
            """));
        Assert.Equal(" a  ", t.Decode([0, 0, 0, 1, 0, 0, 0]));
        Assert.Equal("", t.Decode([0]));
    }

    [Fact]
    public void ByteFallbackDecoderAcceptsLowercaseHex()
    {
        var t = Make(["<0xe2>", "<0x82>", "<0xac>", "<0xZZ>"], [], (r, _) => r["decoder"] = JsonNode.Parse("""{"type": "ByteFallback"}"""));
        Assert.Equal("€<0xZZ>", t.Decode([0, 1, 2, 3]));
    }

    [Fact]
    public void WithoutADecoderTokensAreJoinedBySpaces() => Assert.Equal("a b", Make(["a", "b"], []).Decode([0, 1]));

    [Fact]
    public void MetaspacePrependSchemesAndSplit()
    {
        Tokenizer With(string scheme, bool split) => Make(["▁", "a", "b", "▁a", "▁b", "<x>"], ["▁ a", "▁ b"], (r, _) =>
        {
            r["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = scheme, ["split"] = split
            };
            r["added_tokens"] = new JsonArray(Added(5, "<x>"));
        });
        Assert.Equal(new[] { 3, 5, 4 }, With("always", true).Encode("a<x>b"));
        Assert.Equal(new[] { 3, 5, 2 }, With("first", true).Encode("a<x>b"));
        Assert.Equal(new[] { 1, 5, 2 }, With("never", true).Encode("a<x>b"));
        Assert.Equal(new[] { 3, 4 }, With("first", false).Encode(" a b"));   // no second "▁" before a leading space
        Assert.Equal(new[] { 0, 3, 4 }, With("first", true).Encode("  a b"));
    }
}
