using System.Text.Json.Nodes;
using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// A small tokenizer in Qwen2's layout (NFC, Qwen2's regex with single digits, ByteLevel without regex, pair merges,
/// chat special tokens), written by tests/tokenizer-fixtures/make-qwen2-fixture.mjs, against the ids npm
/// @lenml/tokenizers (transformers.js's pipeline) computes from the same file on about 1,000 strings.
/// </summary>
public class Qwen2TokenizerTests
{
    static readonly TokenizerFixture Fixture = new("qwen2-style-tokenizer");

    static void AssertMatches(Tokenizer t) =>
        AssertAll(Fixture.Expected, e =>
        {
            var ids = t.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });

    [Fact]
    public void EncodeMatchesTheJavaScriptPipelineOnEveryFixtureLine()
    {
        Assert.True(Fixture.Expected.Count >= 800, $"expected.jsonl has {Fixture.Expected.Count} lines");
        var t = Fixture.Tokenizer;
        Assert.Null(t.BosId); // Qwen2 adds no BOS
        Assert.Equal((int?)8256, t.EosId);
        Assert.Equal((int?)8256, t.PadId);
        AssertMatches(t);
    }

    [Fact]
    public void NfcComposesBeforeTokenizing()
    {
        var t = Fixture.Tokenizer;
        Assert.Equal(t.Encode("caf\u00e9"), t.Encode("cafe\u0301"));
        Assert.Equal(t.Encode("\u00c5"), t.Encode("\u212b"));
    }

    [Fact]
    public void DigitsAreSplitOneByOne()
    {
        var t = Fixture.Tokenizer;
        Assert.Equal(4, t.Encode("2024").Length);
        Assert.Equal("2024", t.Decode(t.Encode("2024")));
    }

    [Fact]
    public void VocabJsonAndMergesTxtWithQwen2TokenizerGiveTheSameIds()
    {
        // Qwen2 repositories also ship vocab.json + merges.txt; transformers' Qwen2Tokenizer builds the same pipeline from them.
        var model = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture.Folder, "tokenizer.json")))!["model"]!;
        using var folder = Fixture.CopyFiles("tokenizer_config.json");
        File.WriteAllText(Path.Combine(folder.Path, "vocab.json"), model["vocab"]!.ToJsonString());
        File.WriteAllLines(Path.Combine(folder.Path, "merges.txt"),
            ["#version: 0.2", .. model["merges"]!.AsArray().Select(m => $"{m![0]!.GetValue<string>()} {m[1]!.GetValue<string>()}")]);
        AssertMatches(Tokenizer.Load(folder.Path));
    }

    [Fact]
    public void DecodeInvertsEncodeUpToNfc() =>
        AssertAll(Fixture.Expected, e =>
        {
            string back = Fixture.Tokenizer.Decode(Fixture.Tokenizer.Encode(e.Text), skipSpecialTokens: false);
            return back == e.Text.Normalize(System.Text.NormalizationForm.FormC) ? null : $"{Show(e.Text)} came back as {Show(back)}";
        });
}
