using Qzo.Compute;
using Qzo.Generation;
using Qzo.Models;
using Qzo.Tasks.Definitions;
using Qzo.Tasks.Metrics;
using Qzo.Text;
using Qzo.Training;

namespace Qzo.Tasks;

/// <summary>What the model answered for one item.</summary>
public sealed record TaskPrediction(string Where, string Prediction, bool Correct, double? F1);

public sealed record TaskEvaluation(EvaluationResult Result, IReadOnlyList<TaskPrediction> Predictions);

/// <summary>
/// Scores a model on a task's items as MeZO does: classification and multiple choice by the mean log-probability
/// of each candidate's tokens (accuracy), generation by greedy decoding up to the stop string (exact match and F1
/// after SQuAD's normalization, best over the gold answers). Optional in-context demonstrations go in front.
/// </summary>
public sealed class TaskEvaluator(CausalLanguageModel model, Tokenizer tokenizer, TaskEncoder encoder, int batchSize, int padId)
{
    /// <summary>Overrides the task's max_new_tokens for generation.</summary>
    public int? MaxNewTokens { get; init; }

    public TaskEvaluation Evaluate(IReadOnlyList<TaskItem> items, IReadOnlyList<TaskItem>? demonstrations = null,
        IProgress<double>? progress = null)
    {
        if (items.Count == 0) throw new QzoException($"task '{encoder.Task.Name}': nothing to evaluate (the split is empty)");
        string demos = encoder.Demonstrations(demonstrations ?? []);
        return encoder.Task.Kind == TaskKind.Generation ? Generation(items, demos, progress) : Choices(items, demos, progress);
    }

    TaskEvaluation Choices(IReadOnlyList<TaskItem> items, string demos, IProgress<double>? progress)
    {
        var examples = items.Select(i => encoder.Choices(i, demos)).ToList();
        var predicted = new int[items.Count];
        double loss = 0; long tokens = 0; int done = 0;
        var order = Enumerable.Range(0, items.Count).OrderBy(i => examples[i].Candidates.Max(c => c.Ids.Length)).ToList();
        foreach (var chunk in order.Chunk(batchSize))
        {
            var batch = chunk.Select(i => examples[i]).ToList();
            var (meanLoss, predictions) = Objective.ClassificationLoss(model, batch, Perturbation.None, padId);
            loss += meanLoss * batch.Count;
            for (int k = 0; k < chunk.Length; k++) predicted[chunk[k]] = predictions[k];
            tokens += batch.Sum(e => e.Candidates.Sum(c => (long)c.ScoredCount));
            done += chunk.Length;
            progress?.Report((double)done / items.Count);
        }
        var results = items.Select((item, i) => new TaskPrediction(item.Where, item.Candidates[predicted[i]],
            examples[i].IsCorrect(predicted[i]), null)).ToList();
        double accuracy = (double)results.Count(r => r.Correct) / items.Count;
        var result = new EvaluationResult(loss / items.Count, null, accuracy, items.Count, tokens) { Metric = encoder.Task.MetricName };
        return new TaskEvaluation(result, results);
    }

    TaskEvaluation Generation(IReadOnlyList<TaskItem> items, string demos, IProgress<double>? progress)
    {
        int newTokens = MaxNewTokens ?? encoder.Task.MaxNewTokens;
        var prompts = items.Select(i => encoder.GenerationPrompt(i, demos, newTokens)).ToList();
        var options = new GenerationOptions { MaxNewTokens = newTokens, Greedy = true, StopStrings = encoder.Task.StopStrings,
            BatchSize = batchSize };
        var generated = TextGeneration.Generate(model, tokenizer, prompts, options,
            new Progress<int>(n => progress?.Report((double)n / items.Count)));
        var results = new List<TaskPrediction>(items.Count);
        double em = 0, f1 = 0;
        for (int i = 0; i < items.Count; i++)
        {
            string text = generated[i].Text;
            foreach (var stop in encoder.Task.StopStrings.Where(s => s.Length > 0))
                if (text.IndexOf(stop, StringComparison.Ordinal) is int cut and >= 0) text = text[..cut];
            text = text.Trim();
            double itemEm = SquadAnswers.ExactMatch(text, items[i].Answers), itemF1 = SquadAnswers.F1(text, items[i].Answers);
            em += itemEm; f1 += itemF1;
            results.Add(new TaskPrediction(items[i].Where, text, itemEm == 1.0, itemF1));
        }
        var result = new EvaluationResult(null, null, null, items.Count, 0)
        {
            Metric = encoder.Task.MetricName, ExactMatch = em / items.Count, F1 = f1 / items.Count,
        };
        return new TaskEvaluation(result, results);
    }
}
