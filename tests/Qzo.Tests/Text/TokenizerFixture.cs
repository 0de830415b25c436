using System.Text.Json;
using Qzo.Text;

namespace Qzo.Tests.Text;

/// <summary>A tokenizer fixture folder under tests/fixtures: the tokenizer files and expected.jsonl ({"text", "ids"} per line).</summary>
internal sealed class TokenizerFixture
{
    readonly Lazy<Tokenizer> _tokenizer;
    readonly Lazy<IReadOnlyList<(string Text, int[] Ids)>> _expected;

    public TokenizerFixture(string name)
    {
        Folder = TestPaths.Fixture(name);
        _tokenizer = new(() => Tokenizer.Load(Folder));
        _expected = new(() => ReadExpected(Path.Combine(Folder, "expected.jsonl")));
    }

    public string Folder { get; }
    public Tokenizer Tokenizer => _tokenizer.Value;
    public IReadOnlyList<(string Text, int[] Ids)> Expected => _expected.Value;

    public static IReadOnlyList<(string Text, int[] Ids)> ReadExpected(string path) =>
        File.ReadLines(path)
            .Where(line => line.Length > 0)
            .Select(line =>
            {
                using var doc = JsonDocument.Parse(line);
                return (doc.RootElement.GetProperty("text").GetString()!,
                        doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            })
            .ToList();

    /// <summary>Copies some of the fixture's files into a fresh temporary folder (for loading one format alone).</summary>
    public TempFolder CopyFiles(params string[] names)
    {
        var temp = new TempFolder();
        foreach (var name in names) File.Copy(Path.Combine(Folder, name), Path.Combine(temp.Path, name));
        return temp;
    }
}
