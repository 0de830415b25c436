using System.IO.Compression;
using System.Text.Json;
using Qzo.Text;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// The three SD3 tokenizer folders (clip/: CLIP-L, padded with &lt;|endoftext|&gt;; clip2/: CLIP-G, padded with "!"; t5/) read
/// by Qzo's loader: for every recorded string, the ids transformers 5.17 gave, bare and padded as SD3's pipeline pads them
/// (CLIP to 77, T5 to 16), exactly; and the decoded text with and without the special tokens.
/// </summary>
public class TokenizerIdsParityTests(ITestOutputHelper output)
{
    [Fact]
    public void IdsAndDecodedTextMatchTransformers()
    {
        string folder = Sd3Fixtures.Case("tokenizer-ids");
        var clip = Tokenizer.Load(Path.Combine(folder, "clip"));
        var clip2 = Tokenizer.Load(Path.Combine(folder, "clip2"));
        var t5 = Tokenizer.Load(Path.Combine(folder, "t5"));
        var mismatches = new List<string>();
        int rows = 0;
        void Same<T>(string what, string text, T expected, T actual)
        {
            string e = JsonSerializer.Serialize(expected), a = JsonSerializer.Serialize(actual);
            if (e != a) mismatches.Add($"{what} of {JsonSerializer.Serialize(text)}: expected {e}, got {a}");
        }
        foreach (var row in ReadRows(Path.Combine(folder, "expected.jsonl.gz")))
        {
            rows++;
            string text = row.GetProperty("text").GetString()!;
            int[] Ids(string key) => row.GetProperty(key).Deserialize<int[]>()!;
            string Text(string key) => row.GetProperty(key).GetString()!;
            foreach (var (key, tokenizer, padded) in new[] { ("clip", clip, 77), ("clip2", clip2, 77), ("t5", t5, 16) })
            {
                Same(key, text, Ids(key), tokenizer.Encode(text));
                Same($"{key}_padded", text, Ids($"{key}_padded"), tokenizer.EncodePadded(text, padded));
            }
            foreach (var (key, tokenizer) in new[] { ("clip", clip), ("t5", t5) })
            {
                Same($"{key}_decoded", text, Text($"{key}_decoded"), tokenizer.Decode(Ids(key), skipSpecialTokens: false));
                Same($"{key}_decoded_skip", text, Text($"{key}_decoded_skip"), tokenizer.Decode(Ids(key), skipSpecialTokens: true));
            }
        }
        output.WriteLine($"PARITY tokenizer-ids: {rows} strings, {mismatches.Count} mismatches");
        foreach (var m in mismatches.Take(20)) output.WriteLine(m);
        Assert.True(rows >= 100, $"expected.jsonl.gz holds only {rows} strings");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches, the first: {mismatches.FirstOrDefault()}");
    }

    static IEnumerable<JsonElement> ReadRows(string path)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        while (reader.ReadLine() is { } line)
            if (line.Length > 0) yield return JsonDocument.Parse(line).RootElement.Clone();
    }
}
