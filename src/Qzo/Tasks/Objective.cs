using Qzo.Compute;
using Qzo.Models;
using Qzo.Training;

namespace Qzo.Tasks;

/// <summary>The training loss of a batch of examples under a perturbation.</summary>
public static class Objective
{
    public static double Loss(CausalLanguageModel model, IReadOnlyList<Example> batch, Perturbation p, int padId)
    {
        var sum = LossSum(model, batch, p, padId);
        return sum.Count == 0 ? 0 : sum.Sum / sum.Count;
    }

    /// <summary>
    /// The batch's loss as a sum: over every scored token (language modelling, as transformers' causal-LM loss averages),
    /// or over examples (classification); <see cref="Loss"/> is Sum / Count, bit for bit.
    /// </summary>
    /// <param name="padTo">pad the batch to at least this length (<see cref="PaddedLength"/> of the batch it is a share of).</param>
    public static LossSum LossSum(CausalLanguageModel model, IReadOnlyList<Example> batch, Perturbation p, int padId, int padTo = 0)
    {
        if (batch[0] is ChoiceExample)
        {
            var choices = batch.Cast<ChoiceExample>().ToList();
            return new LossSum(ClassificationLossSum(model, choices, p, padId, padTo).TotalLoss, choices.Count);
        }
        var sequences = batch.Cast<SequenceExample>().Select(e => (e.Ids, e.Scored)).ToList();
        var losses = model.Loss(TokenBatch.Pad(sequences, padId, atLeast: padTo), p);
        return new LossSum(losses.Sum.Sum(), losses.TokenCount);
    }

    /// <summary>The length a batch is padded to: its longest sequence (or candidate).</summary>
    public static int PaddedLength(IReadOnlyList<Example> batch) => batch.Max(e => e switch
    {
        ChoiceExample c => c.Candidates.Max(s => s.Ids.Length),
        SequenceExample s => s.Ids.Length,
        _ => 0,
    });

    /// <summary>
    /// MeZO's classification objective: each candidate's score is the mean log-probability of its answer
    /// tokens; the loss is the cross-entropy of the softmax over candidates against the label.
    /// </summary>
    public static (double MeanLoss, int[] Predictions) ClassificationLoss(CausalLanguageModel model, IReadOnlyList<ChoiceExample> batch,
        Perturbation p, int padId)
    {
        var (total, predictions) = ClassificationLossSum(model, batch, p, padId);
        return (total / batch.Count, predictions);
    }

    /// <summary>The summed (not mean) cross-entropy of <see cref="ClassificationLoss"/>.</summary>
    public static (double TotalLoss, int[] Predictions) ClassificationLossSum(CausalLanguageModel model,
        IReadOnlyList<ChoiceExample> batch, Perturbation p, int padId, int padTo = 0)
    {
        var allScores = CandidateScoring.Scores(model, batch, p, padId, padTo);
        double total = 0;
        var predictions = new int[batch.Count];
        for (int e = 0; e < batch.Count; e++)
        {
            var scores = allScores[e];
            double max = scores.Max();
            double logSumExp = max + Math.Log(scores.Sum(v => Math.Exp(v - max)));
            total += logSumExp - scores[batch[e].Label];
            predictions[e] = Array.IndexOf(scores, max);
        }
        return (total, predictions);
    }
}
