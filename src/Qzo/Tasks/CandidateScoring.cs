using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Tasks;

/// <summary>
/// The candidates' scores of a batch of classification examples (MeZO's: the mean log-probability of each candidate's
/// answer tokens), from one forward pass. An example whose candidates are one prompt followed by one answer token each
/// (SST-2's "great" / "terrible") is run once, as its prompt alone, and every candidate is scored from the prompt's last
/// position: causal attention makes that position's logits the same in each candidate's row, so the scores are those of
/// running every candidate, at half the tokens for two candidates. Other examples run one row per candidate.
/// </summary>
public static class CandidateScoring
{
    /// <param name="padTo">pad the rows to at least this length (a share of a batch padded as the whole batch is).</param>
    /// <returns>scores[e][c] for candidate c of example e.</returns>
    public static double[][] Scores(CausalLanguageModel model, IReadOnlyList<ChoiceExample> batch, Perturbation p, int padId,
                                    int padTo = 0)
    {
        bool shareable = model.Pipeline is null; // a pipeline rank's losses come through Loss only
        var rows = new List<(int[] Ids, bool[] Scored)>();
        var queries = new List<(int Row, int Position, int Target)>(); // position within the row
        var firstQuery = new int[batch.Count][]; // per example, per candidate: its queries' start; one past the end last
        foreach (var (example, e) in batch.Select((x, i) => (x, i)))
        {
            var candidates = example.Candidates;
            firstQuery[e] = new int[candidates.Length + 1];
            if (shareable && SharePromptAndDifferInLastToken(candidates))
            {
                int last = candidates[0].Ids.Length - 1;
                rows.Add((candidates[0].Ids[..last], new bool[last]));
                for (int c = 0; c < candidates.Length; c++)
                {
                    firstQuery[e][c] = queries.Count;
                    queries.Add((rows.Count - 1, last - 1, candidates[c].Ids[last]));
                }
            }
            else
                for (int c = 0; c < candidates.Length; c++)
                {
                    firstQuery[e][c] = queries.Count;
                    rows.Add((candidates[c].Ids, candidates[c].Scored));
                    for (int t = 1; t < candidates[c].Ids.Length; t++) // position t − 1 predicts token t; token 0 has no position before it
                        if (candidates[c].Scored[t]) queries.Add((rows.Count - 1, t - 1, candidates[c].Ids[t]));
                }
            firstQuery[e][candidates.Length] = queries.Count;
        }
        var tokens = TokenBatch.Pad(rows, padId, atLeast: padTo);
        var nll = model.NextTokenNll(tokens, queries.Select(q => q.Row * tokens.Seq + q.Position).ToArray(),
                                     queries.Select(q => q.Target).ToArray(), p);
        var scores = new double[batch.Count][];
        for (int e = 0; e < batch.Count; e++)
        {
            int n = batch[e].Candidates.Length;
            scores[e] = new double[n];
            for (int c = 0; c < n; c++)
            {
                double sum = 0;
                int start = firstQuery[e][c], end = firstQuery[e][c + 1];
                for (int q = start; q < end; q++) sum += nll[q];
                scores[e][c] = -sum / Math.Max(end - start, 1);
            }
        }
        return scores;
    }

    /// <summary>Every candidate is the same prompt (nothing of it scored) and one scored answer token.</summary>
    public static bool SharePromptAndDifferInLastToken(IReadOnlyList<SequenceExample> candidates)
    {
        int length = candidates[0].Ids.Length;
        if (length < 2) return false;
        foreach (var c in candidates)
        {
            if (c.Ids.Length != length || !c.Scored[length - 1]) return false;
            for (int t = 0; t < length - 1; t++)
                if (c.Scored[t] || c.Ids[t] != candidates[0].Ids[t]) return false;
        }
        return true;
    }
}
