using System.Text.Json;
using Qzo.Tests.Text;
using Qzo.Text;
using Xunit.Abstractions;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// transformers 5.17's ids for SD3's three tokenizers (tests/fixtures/sd3/tokenizer-ids): folders clip/ (CLIPTokenizer,
/// pad &lt;|endoftext|&gt;), clip2/ (tokenizer_2's layout, pad "!" = 0) and t5/ (T5TokenizerFast from a SentencePiece
/// Unigram model), trained by the oracle on generated prompts, and expected.jsonl.gz with, per string, the plain ids, the
/// ids as the pipeline pads and truncates them (77 for CLIP, max_sequence_length 16 for T5), and for CLIP and T5 the
/// decoded text with and without the special tokens. Every id must be the same; so must every decoded string.
/// </summary>
public class TokenizerParityTests(ITestOutputHelper output)
{
    static readonly Lazy<List<JsonElement>> s_lines = new(() =>
        TokenizerFixture.ReadLines(Path.Combine(Sd3Fixtures.Case("tokenizer-ids"), "expected.jsonl.gz"))
            .Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList());

    [Theory]
    [InlineData("clip", 77)]
    [InlineData("clip2", 77)]
    [InlineData("t5", 16)]
    public void IdsAndDecodingMatchTransformers(string name, int paddedLength)
    {
        var lines = s_lines.Value;
        Assert.True(lines.Count >= 200, $"expected.jsonl.gz has {lines.Count} lines");
        var tokenizer = Tokenizer.Load(Path.Combine(Sd3Fixtures.Case("tokenizer-ids"), name));
        bool decodes = lines[0].TryGetProperty($"{name}_decoded", out _);
        AssertAll(lines, line =>
        {
            string text = line.GetProperty("text").GetString()!;
            int[] ids = tokenizer.Encode(text);
            return Mismatch(text, "ids", Ids(line, name), ids)
                ?? Mismatch(text, "padded ids", Ids(line, $"{name}_padded"), tokenizer.EncodePadded(text, paddedLength))
                ?? (decodes ? Mismatch(text, "decoded", Text(line, $"{name}_decoded"), tokenizer.Decode(ids, skipSpecialTokens: false))
                              ?? Mismatch(text, "decoded without special tokens", Text(line, $"{name}_decoded_skip"), tokenizer.Decode(ids))
                            : null);
        });
        int longest = lines.Max(l => Ids(l, name).Length);
        output.WriteLine($"{name}: {lines.Count} strings, ids{(decodes ? " and decoding" : "")} identical; the longest is {longest} ids " +
                         $"(padded and truncated to {paddedLength})");
        Assert.True(longest > paddedLength, $"no string is longer than {paddedLength} ids: truncation goes unchecked");
    }

    static int[] Ids(JsonElement line, string key) => line.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
    static string Text(JsonElement line, string key) => line.GetProperty(key).GetString()!;

    static string? Mismatch(string text, string what, int[] expected, int[] actual) =>
        actual.AsSpan().SequenceEqual(expected) ? null : $"{Show(text)} {what}: transformers {Show(expected)}, Qzo {Show(actual)}";

    static string? Mismatch(string text, string what, string expected, string actual) =>
        actual == expected ? null : $"{Show(text)} {what}: transformers {Show(expected)}, Qzo {Show(actual)}";
}
