using System.Text.Json.Nodes;
using Qzo.Quantization;
using Qzo.Text;

namespace Qzo.Tests.Quantization;

public class CalibrationSetTests
{
    static readonly Tokenizer Tokenizer = Tokenizer.FromJson(
        TokenizerSynthesizer.BuildTokenizerJson(320, TokenizerSynthesizer.BuiltInCorpus), TokenizerSynthesizer.BuildTokenizerConfigJson());

    static readonly string[] Sentences =
    [
        "The morning train left the station on time.", "A small dog ran across the park.",
        "Water boils at a lower temperature on a mountain.",
        "Please remember to lock the door.", "The old library had tall wooden shelves.", "Our team won the match after a late goal.",
        "Children learn quickly when they are curious.", "The river flows north before it turns east.",
    ];

    static string Write(TempFolder folder, string name, IEnumerable<JsonObject> rows)
    {
        File.WriteAllLines(folder[name], rows.Select(r => r.ToJsonString()));
        return folder[name];
    }

    static string TextRows(TempFolder folder) => Write(folder, "text.jsonl", Sentences.Select(s => new JsonObject { ["text"] = s }));

    [Fact]
    public void WindowsCutTheShuffledTokenizedRowsIntoConsecutivePieces()
    {
        using var folder = new TempFolder();
        var set = CalibrationSet.Load(TextRows(folder), Tokenizer, samples: 100, length: 16, seed: 7);
        var encoded = Sentences.Select(s => Tokenizer.Encode(s)).ToList();
        long total = encoded.Sum(e => e.Length);
        Assert.Equal(total, set.TotalTokens);
        Assert.Equal((int)(total / 16), set.Samples); // all the data holds, not 100
        Assert.All(set.Windows, w => Assert.Equal(16, w.Length));

        // The windows, joined, are the start of the rows joined in some order, each row once.
        var stream = set.Windows.SelectMany(w => w).ToList();
        var remaining = encoded.ToList();
        int at = 0;
        while (at < stream.Count)
        {
            var row = remaining.FirstOrDefault(r => r.Take(stream.Count - at).SequenceEqual(stream.Skip(at).Take(r.Length)));
            Assert.True(row is not null, $"tokens from {at} on are not the start of any unused row");
            remaining.Remove(row!);
            at += row!.Length;
        }
        Assert.NotEqual(encoded.Take(3).SelectMany(r => r).Take(16), set.Windows[0]); // shuffled, not in file order (seed 7)
    }

    [Fact]
    public void TheSeedPicksTheOrder()
    {
        using var folder = new TempFolder();
        string path = TextRows(folder);
        var a = CalibrationSet.Load(path, Tokenizer, null, 16, seed: 1);
        var b = CalibrationSet.Load(path, Tokenizer, null, 16, seed: 1);
        var c = CalibrationSet.Load(path, Tokenizer, null, 16, seed: 2);
        Assert.Equal(a.Windows, b.Windows);
        Assert.NotEqual(a.Windows, c.Windows);
    }

    [Fact]
    public void DefaultsAreClippedToTheDataAndTheModel()
    {
        using var folder = new TempFolder();
        string path = TextRows(folder);
        long total = Sentences.Sum(s => Tokenizer.Encode(s).Length);

        var all = CalibrationSet.Load(path, Tokenizer, null, null, seed: 0); // 2048 tokens wanted, fewer held: one window of everything
        Assert.Equal((1, (int)total), (all.Samples, all.Length));

        var positions = CalibrationSet.Load(path, Tokenizer, null, null, seed: 0, maxLength: 40);
        Assert.Equal((40, (int)(total / 40)), (positions.Length, positions.Samples));

        var few = CalibrationSet.Load(path, Tokenizer, 3, 8, seed: 0);
        Assert.Equal((3, 8), (few.Samples, few.Length));
    }

    [Fact]
    public void PromptCompletionAndTokenIdRowsAreRead()
    {
        using var folder = new TempFolder();
        string path = Write(folder, "mixed.jsonl",
        [
            new JsonObject { ["prompt"] = "Question: what boils?", ["completion"] = " Water." },
            new JsonObject { ["input_ids"] = new JsonArray(1, 100, 101, 102) },
        ]);
        var set = CalibrationSet.Load(path, Tokenizer, null, null, seed: 0);
        var first = Tokenizer.Encode("Question: what boils? Water.");
        int[] second = [1, 100, 101, 102];
        var stream = set.Windows.Single();
        Assert.True(stream.SequenceEqual(first.Concat(second)) || stream.SequenceEqual(second.Concat(first)), string.Join(",", stream));
    }

    [Fact]
    public void BadCalibrationDataIsAClearError()
    {
        using var folder = new TempFolder();
        Assert.Contains("calibration file not found",
            Assert.Throws<QzoException>(() => CalibrationSet.Load(folder["none.jsonl"], Tokenizer, null, null, 0)).Message);
        File.WriteAllText(folder["empty.jsonl"], "\n  \n");
        Assert.Contains("calibration file is empty",
            Assert.Throws<QzoException>(() => CalibrationSet.Load(folder["empty.jsonl"], Tokenizer, null, null, 0)).Message);
        string path = TextRows(folder);
        Assert.Contains("too short for one sample of --calibration-length 5000",
            Assert.Throws<QzoException>(() => CalibrationSet.Load(path, Tokenizer, null, 5000, 0)).Message);
        Assert.Contains("longer than the model's 64 positions",
            Assert.Throws<QzoException>(() => CalibrationSet.Load(path, Tokenizer, null, 65, 0, maxLength: 64)).Message);
        Assert.Throws<QzoException>(() => CalibrationSet.Load(path, Tokenizer, 0, null, 0));
        Write(folder, "one.jsonl", [new JsonObject { ["input_ids"] = new JsonArray(1) }]);
        Assert.Contains("holds 1 token",
            Assert.Throws<QzoException>(() => CalibrationSet.Load(folder["one.jsonl"], Tokenizer, null, null, 0)).Message);
    }
}
