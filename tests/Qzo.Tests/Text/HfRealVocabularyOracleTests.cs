using System.Text.Json;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// transformers 5.17's own ids for the real vocabularies of the npm fixtures (Gemma 3, Qwen3): the folders
/// tests/fixtures/hf-tokenizers/gemma3/ and qwen3/, recorded on the device by tests/oracle/tokenizers_reference.py
/// (`python3 tests/oracle/tokenizers_reference.py "$OUT/hf-tokenizers" gemma3 qwen3`). Each holds expected.jsonl.gz
/// only; the tokenizer files are the npm fixture's. Qzo must give AutoTokenizer's ids with and without special tokens
/// and its decode(ids without special tokens) on every line. A missing folder fails: it is never skipped.
/// </summary>
public class HfRealVocabularyOracleTests
{
    /// <summary>Oracle folder → the npm fixture whose tokenizer files it was recorded from.</summary>
    static TokenizerFixture Source(string name) => name switch
    {
        "gemma3" => Gemma3TokenizerTests.Fixture,
        "qwen3" => Qwen3TokenizerTests.Fixture,
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string> Names() => new(HfTokenizerOracleTests.RealVocabularies);

    [Theory, MemberData(nameof(Names))]
    public void EncodeAndDecodeMatchAutoTokenizerOnEveryLine(string name)
    {
        string expected = Path.Combine(AppContext.BaseDirectory, "fixtures", "hf-tokenizers", name, "expected.jsonl.gz");
        Assert.True(File.Exists(expected), $"{expected} is missing: record it on the device with "
            + $"python3 tests/oracle/tokenizers_reference.py \"$OUT/hf-tokenizers\" {name}, then copy $OUT/hf-tokenizers/{name}/ "
            + "to tests/fixtures/hf-tokenizers/");
        var tokenizer = Source(name).Tokenizer;
        var lines = TokenizerFixture.ReadLines(expected);
        Assert.True(lines.Count >= 1000, $"{expected} has {lines.Count} lines");
        AssertAll(lines, line =>
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            int[] Ids(string key) => root.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
            string text = root.GetProperty("text").GetString()!;
            int[] ids = tokenizer.Encode(text), plain = tokenizer.Encode(text, addSpecialTokens: false);
            if (!ids.AsSpan().SequenceEqual(Ids("ids"))) return $"{Show(text)}: expected {Show(Ids("ids"))}, got {Show(ids)}";
            if (!plain.AsSpan().SequenceEqual(Ids("ids_no_special")))
                return $"{Show(text)} without special tokens: expected {Show(Ids("ids_no_special"))}, got {Show(plain)}";
            string decoded = tokenizer.Decode(plain, skipSpecialTokens: false), want = root.GetProperty("decoded").GetString()!;
            return decoded == want ? null : $"{Show(text)} decodes to {Show(decoded)}, transformers {Show(want)}";
        });
    }
}
