using Qzo.Compute;
using Qzo.Distributed;
using Qzo.Models;
using Qzo.Training;

namespace Qzo.Tasks;

/// <summary>
/// Scores a model on held-out examples, batched by length so little is padding. With a communicator, each rank scores
/// its share of the length-ordered examples and the sums are all-reduced, so every rank returns the same result.
/// </summary>
public static class Evaluator
{
    public static EvaluationResult Evaluate(CausalLanguageModel model, IReadOnlyList<Example> examples, int batchSize, int padId,
                                            IProgress<double>? progress = null, ICommunicator? communicator = null)
    {
        if (examples.Count == 0) throw new ArgumentException("nothing to evaluate");
        return examples[0] is ChoiceExample
            ? Classification(model, examples.Cast<ChoiceExample>().ToList(), batchSize, padId, progress, communicator)
            : LanguageModelling(model, examples.Cast<SequenceExample>().ToList(), batchSize, padId, progress, communicator);
    }

    static IReadOnlyList<T> Share<T>(IReadOnlyList<T> ordered, ICommunicator? communicator) =>
        communicator is null ? ordered : RankShard.Of(ordered, communicator.Rank, communicator.WorldSize);

    static void Reduce(ICommunicator? communicator, double[] sums) => communicator?.AllReduceSum(sums);

    static EvaluationResult LanguageModelling(CausalLanguageModel model, List<SequenceExample> examples, int batchSize, int padId,
        IProgress<double>? progress, ICommunicator? communicator)
    {
        double sum = 0; long tokens = 0; int done = 0;
        var share = Share(examples.OrderBy(e => e.Ids.Length).ToList(), communicator);
        foreach (var batch in share.Chunk(batchSize))
        {
            var losses = model.Loss(TokenBatch.Pad(batch.Select(e => (e.Ids, e.Scored)).ToList(), padId), Perturbation.None);
            sum += losses.Sum.Sum();
            tokens += losses.TokenCount;
            done += batch.Length;
            progress?.Report((double)done / Math.Max(share.Count, 1));
        }
        double[] totals = [sum, tokens];
        Reduce(communicator, totals);
        (sum, tokens) = (totals[0], (long)totals[1]);
        if (tokens == 0) throw new ArgumentException(
            "no example scores a token; load the data with JsonlDataset.LoadScored, which refuses that");
        double mean = sum / tokens;
        return new EvaluationResult(mean, Math.Exp(mean), null, examples.Count, tokens);
    }

    static EvaluationResult Classification(CausalLanguageModel model, List<ChoiceExample> examples, int batchSize, int padId,
        IProgress<double>? progress, ICommunicator? communicator)
    {
        double loss = 0; int correct = 0, done = 0; long tokens = 0;
        var share = Share(examples.OrderBy(e => e.Candidates.Max(c => c.Ids.Length)).ToList(), communicator);
        foreach (var batch in share.Chunk(batchSize))
        {
            var (meanLoss, predictions) = Objective.ClassificationLoss(model, batch, Perturbation.None, padId);
            loss += meanLoss * batch.Length;
            for (int i = 0; i < batch.Length; i++) if (batch[i].IsCorrect(predictions[i])) correct++;
            tokens += batch.Sum(e => e.Candidates.Sum(c => (long)c.ScoredCount));
            done += batch.Length;
            progress?.Report((double)done / Math.Max(share.Count, 1));
        }
        double[] totals = [loss, correct, tokens];
        Reduce(communicator, totals);
        (loss, correct, tokens) = (totals[0], (int)totals[1], (long)totals[2]);
        return new EvaluationResult(loss / examples.Count, null, (double)correct / examples.Count, examples.Count, tokens);
    }
}
