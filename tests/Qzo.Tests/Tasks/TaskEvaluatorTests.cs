using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Generation;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Tasks.Data;
using Qzo.Tasks.Definitions;
using Qzo.Tests.Models;

namespace Qzo.Tests.Tasks;

public class TaskEvaluatorTests
{
    [Fact]
    public void AccuracyIsTheShareWhoseBestScoredCandidateIsCorrect()
    {
        using var folder = new TempFolder();
        using var backend = new CpuBackend();
        using var session = ModelSession.Open(TinyModels.Dense(folder), backend, TrainingScope.None);
        var encoder = new TaskEncoder(TaskCatalog.Resolve("rte"), session.Tokenizer, 2048);
        var items = encoder.Items(TaskDataFolder.ReadSplit(TaskFixtures.Parquet("rte"), "validation"));
        var evaluation = new TaskEvaluator(session.Model, session.Tokenizer, encoder, batchSize: 5, session.PadId).Evaluate(items);

        int correct = 0;
        foreach (var item in items)
        {
            // Mean log-probability of each candidate's answer tokens, one candidate at a time.
            var scores = encoder.Choices(item, "").Candidates.Select(c =>
            {
                var losses = session.Model.Loss(TokenBatch.Pad([(c.Ids, c.Scored)], session.PadId), Perturbation.None);
                return -losses.Sum[0] / losses.Count[0];
            }).ToList();
            if (item.Correct.Contains(scores.IndexOf(scores.Max()))) correct++;
        }
        Assert.Equal((double)correct / items.Count, evaluation.Result.Accuracy);
        Assert.Equal("accuracy", evaluation.Result.Metric);
        Assert.Equal(evaluation.Result.Accuracy, evaluation.Result.MetricValue);
        Assert.Equal(correct, evaluation.Predictions.Count(p => p.Correct));
    }

    [Fact]
    public void GenerationScoresTheGreedyAnswerUpToTheStopString()
    {
        using var folder = new TempFolder();
        using var backend = new CpuBackend();
        using var session = ModelSession.Open(TinyModels.Dense(folder), backend, TrainingScope.None);
        var task = TaskCatalog.Resolve("squad") with { MaxNewTokens = 4 };
        var encoder = new TaskEncoder(task, session.Tokenizer, 2048);
        var items = encoder.Items(TaskDataFolder.ReadSplit(TaskFixtures.Jsonl("squad"), "validation")).Take(3).ToList();
        // Gold answers set to what the model itself says: every item scores 1; a wrong gold scores 0.
        var said = TextGeneration.Generate(session.Model, session.Tokenizer, items.Select(i => i.Prompt).ToList(),
            new GenerationOptions { MaxNewTokens = 4 });
        var own = items.Select((item, i) => item with { Answers = [said[i].Text.Split('\n')[0]] }).ToList();
        own[2] = own[2] with { Answers = ["zzzz qqqq"] };
        var evaluation = new TaskEvaluator(session.Model, session.Tokenizer, encoder, batchSize: 2, session.PadId).Evaluate(own);
        Assert.Equal([1.0, 1.0, 0.0], evaluation.Predictions.Select(p => p.F1!.Value));
        Assert.Equal(2.0 / 3, evaluation.Result.F1!.Value, 12);
        Assert.Equal(evaluation.Result.F1, evaluation.Result.MetricValue);
        Assert.Null(evaluation.Result.Loss);
    }
}
