using System.Text.Json;
using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

/// <summary>
/// Hugging Face's own ids: every folder under tests/fixtures/hf-tokenizers/ written by
/// tests/oracle/tokenizers_reference.py on the device (tokenizers + transformers' AutoTokenizer; see its docstring for
/// the command). Qzo loads each folder as it is and must give AutoTokenizer's ids on every line, with and without
/// special tokens.
/// </summary>
public class HfTokenizerOracleTests
{
    static readonly string Root = Path.Combine(AppContext.BaseDirectory, "fixtures", "hf-tokenizers");

    public static TheoryData<string> Folders()
    {
        var data = new TheoryData<string>();
        IEnumerable<string?> names = Directory.Exists(Root)
            ? Directory.GetDirectories(Root).Where(d => File.Exists(Path.Combine(d, "expected.jsonl"))).Select(Path.GetFileName).Order(StringComparer.Ordinal)
            : [];
        foreach (var name in names) data.Add(name!);
        return data;
    }

    // Not a test yet: the fixtures come from a device run still to be made, and a theory without data (or a
    // placeholder row that passes) would prove nothing. With them committed this becomes
    // [Theory, MemberData(nameof(Folders))], one test per folder.
    internal void EncodeMatchesAutoTokenizerOnEveryLine(string name)
    {
        string folder = Path.Combine(Root, name);
        var tokenizer = Tokenizer.Load(folder);
        var lines = File.ReadLines(Path.Combine(folder, "expected.jsonl")).Where(l => l.Length > 0).Select(Parse).ToList();
        Assert.True(lines.Count >= 1000, $"{name}/expected.jsonl has {lines.Count} lines");
        AssertAll(lines, e =>
        {
            var ids = tokenizer.Encode(e.Text);
            if (!ids.AsSpan().SequenceEqual(e.Ids)) return $"{Show(e.Text)}: expected {Show(e.Ids)}, got {Show(ids)}";
            var plain = tokenizer.Encode(e.Text, addSpecialTokens: false);
            return plain.AsSpan().SequenceEqual(e.IdsNoSpecial) ? null : $"{Show(e.Text)} without special tokens: expected {Show(e.IdsNoSpecial)}, got {Show(plain)}";
        });
    }

    static (string Text, int[] Ids, int[] IdsNoSpecial) Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        int[] Ids(string key) => root.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return (root.GetProperty("text").GetString()!, Ids("ids"), Ids("ids_no_special"));
    }
}
