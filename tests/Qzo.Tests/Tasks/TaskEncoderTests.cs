using Parquet.Serialization;
using Qzo.Numerics;
using Qzo.Tasks;
using Qzo.Tasks.Data;
using Qzo.Tasks.Definitions;
using Qzo.Text;

namespace Qzo.Tests.Tasks;

public class TaskEncoderTests
{
    static readonly Tokenizer Tokenizer =
        Tokenizer.FromJson(TokenizerSynthesizer.BuildTokenizerJson(320, TokenizerSynthesizer.BuiltInCorpus));
    static TaskEncoder Encoder(string task) => new(TaskCatalog.Resolve(task), Tokenizer, 2048);

    [Fact]
    public void MezoSamplingTakesDevFromTheEndOfTheTrainSampleAndTestFromValidation()
    {
        var train = TaskDataFolder.ReadSplit(TaskFixtures.Parquet("sst2"), "train");
        var validation = TaskDataFolder.ReadSplit(TaskFixtures.Parquet("sst2"), "validation");
        var splits = TaskSplits.Mezo(train, validation, numTrain: 60, numDev: 12, numEval: 1000, seed: 3);
        var permutation = MersenneTwister.NumpyPermutation(train.Count, 3);
        Assert.Equal(permutation.Take(60).Select(i => train[i]), splits.Train);
        Assert.Equal(permutation.Skip(60).Take(12).Select(i => train[i]), splits.Dev);
        // capped at the split's 32 rows
        Assert.Equal(MersenneTwister.NumpyPermutation(validation.Count, 0).Select(i => validation[i]), splits.Test);
        // As MeZO: with fewer rows than asked for, dev keeps its size and train gets the rest (CB: 150/100).
        var capped = TaskSplits.Mezo(train, validation, 1000, 500, 5, 0);
        Assert.Equal((0, 80, 5), (capped.Train.Count, capped.Dev.Count, capped.Test.Count));
        var cb = TaskSplits.Mezo(train, validation, 1000, 30, 5, 0);
        Assert.Equal((50, 30), (cb.Train.Count, cb.Dev.Count));
    }

    [Fact]
    public async Task AMissingColumnNamesTheFileRowAndColumn()
    {
        using var folder = new TempFolder();
        await ParquetSerializer.SerializeAsync(new[] { new NoHypothesis { premise = "p", idx = 0, label = 0 } },
            folder["validation-00000-of-00001.parquet"]);
        var rows = TaskDataFolder.ReadSplit(folder.Path, "validation");
        var e = Assert.Throws<QzoException>(() => Encoder("rte").Items(rows));
        Assert.Equal($"{folder["validation-00000-of-00001.parquet"]}: row 0, column 'hypothesis': missing", e.Message);
    }

    [Fact]
    public void UnknownLabelsAndWrongTypesAreRefusedWithTheirPlace()
    {
        var test = TaskDataFolder.ReadSplit(TaskFixtures.Parquet("sst2"), "test");
        var e = Assert.Throws<QzoException>(() => Encoder("sst2").Items(test));
        Assert.StartsWith(
            $"{TaskFixtures.ParquetFile("sst2", "test")}: row 0, column 'label': has label -1, which task 'sst2' does not know", e.Message);
        Assert.Contains("unlabelled", e.Message);

        var jsonl = new TaskRow(System.Text.Json.Nodes.JsonNode.Parse("""{"sentence": 5, "label": 1}""")!.AsObject(), "x.jsonl:3");
        Assert.Equal("x.jsonl:3, column 'sentence': is int, expected string",
            Assert.Throws<QzoException>(() => Encoder("sst2").Item(jsonl)).Message);
    }

    [Fact]
    public void AnswerTokensAreThoseBeyondThePromptsEncoding()
    {
        var encoder = Encoder("sst2");
        var item = encoder.Items(TaskDataFolder.ReadSplit(TaskFixtures.Jsonl("sst2"), "train"))[0];
        var choices = encoder.Choices(item, "");
        var promptIds = Tokenizer.Encode(item.Prompt);
        foreach (var (candidate, text) in choices.Candidates.Zip(item.Candidates))
        {
            Assert.Equal(Tokenizer.Encode(item.Prompt + text), candidate.Ids);
            Assert.Equal(promptIds.Length, Array.IndexOf(candidate.Scored, true));
            Assert.Equal(text.Trim(), Tokenizer.Decode(candidate.Ids[promptIds.Length..]).Trim());
        }
        // Demonstrations go in front, joined by a blank line; the scored tokens stay the answer's.
        var demos = encoder.Items(TaskDataFolder.ReadSplit(TaskFixtures.Jsonl("sst2"), "train")).Skip(1).Take(2).ToList();
        string context = encoder.Demonstrations(demos);
        Assert.Equal(demos[0].Completed + "\n\n" + demos[1].Completed + "\n\n", context);
        var shot = encoder.Choices(item, context).Candidates[0];
        Assert.Equal(Tokenizer.Encode(context + item.Prompt + item.Candidates[0]), shot.Ids);
        Assert.Equal(choices.Candidates[0].ScoredCount, shot.ScoredCount);
    }

    [Fact]
    public void TrainingExamplesFollowTheTasksObjective()
    {
        var sst2 = Encoder("sst2");
        Assert.IsType<ChoiceExample>(sst2.TrainingExample(sst2.Items(TaskDataFolder.ReadSplit(TaskFixtures.Jsonl("sst2"), "train"))[0]));
        var copa = Encoder("copa");
        var copaItem = copa.Items(TaskDataFolder.ReadSplit(TaskFixtures.Jsonl("copa"), "train"))[0];
        var lm = Assert.IsType<SequenceExample>(copa.TrainingExample(copaItem));
        Assert.Equal(Tokenizer.Encode(copaItem.Prompt + copaItem.Candidates[copaItem.Correct[0]]), lm.Ids);
        var squad = Encoder("squad");
        var squadItem = squad.Items(TaskDataFolder.ReadSplit(TaskFixtures.Jsonl("squad"), "train"))[0];
        var target = Assert.IsType<SequenceExample>(squad.TrainingExample(squadItem));
        Assert.Equal(" " + squadItem.Answers[0] + "\n", squadItem.Target);
        int scored = target.ScoredCount;
        Assert.Equal(squadItem.Answers[0] + "\n", Tokenizer.Decode(target.Ids[^scored..]).TrimStart());
    }

    public sealed class NoHypothesis { public string? premise { get; set; } public int? idx { get; set; } public long? label { get; set; } }
}
