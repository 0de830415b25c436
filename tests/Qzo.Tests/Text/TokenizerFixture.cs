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
        Folder = Unpacked(TestPaths.Fixture(name));
        _tokenizer = new(() => Tokenizer.Load(Folder));
        _expected = new(() => ReadExpected(Path.Combine(Folder, "expected.jsonl")));
    }

    public string Folder { get; }

    /// <summary>
    /// The fixture folder itself, or, when it holds gzipped files (kept small because the tree travels to the GPU
    /// machine, 64 MiB at most), a copy under the temp folder with those files unpacked, named by the packed sizes so
    /// that later runs reuse it and a changed fixture gets a new one.
    /// </summary>
    static string Unpacked(string folder)
    {
        var packed = Directory.GetFiles(folder, "*.gz");
        if (packed.Length == 0) return folder;
        long key = Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
        string copy = Path.Combine(Path.GetTempPath(), $"qzo-fixture-{Path.GetFileName(folder)}-{key}");
        lock (UnpackLock)
        {
            if (Directory.Exists(copy)) return copy;
            string staging = $"{copy}.{Environment.ProcessId}.partial";
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            Directory.CreateDirectory(staging);
            foreach (var file in Directory.GetFiles(folder))
            {
                string name = Path.GetFileName(file);
                if (!name.EndsWith(".gz", StringComparison.Ordinal)) { File.Copy(file, Path.Combine(staging, name)); continue; }
                using var input = new System.IO.Compression.GZipStream(File.OpenRead(file),
                    System.IO.Compression.CompressionMode.Decompress);
                using var output = File.Create(Path.Combine(staging, name[..^3]));
                input.CopyTo(output);
            }
            try { Directory.Move(staging, copy); }
            catch (IOException) when (Directory.Exists(copy)) { Directory.Delete(staging, recursive: true); } // another test process won
            return copy;
        }
    }

    static readonly object UnpackLock = new();

    /// <summary>The non-empty lines of a text fixture file, gunzipped when its name ends in .gz.</summary>
    public static List<string> ReadLines(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new StreamReader(path.EndsWith(".gz", StringComparison.Ordinal)
            ? new System.IO.Compression.GZipStream(stream, System.IO.Compression.CompressionMode.Decompress) : stream);
        var lines = new List<string>();
        while (reader.ReadLine() is string line) if (line.Length > 0) lines.Add(line);
        return lines;
    }
    public Tokenizer Tokenizer => _tokenizer.Value;
    public IReadOnlyList<(string Text, int[] Ids)> Expected => _expected.Value;

    public static IReadOnlyList<(string Text, int[] Ids)> ReadExpected(string path) =>
        ReadLines(path)
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
