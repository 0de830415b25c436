using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// Ancestral sampling from a model, recomputing the whole prefix for each new token (no KV cache: fine for
/// the small models of tests and the demo; cached generation belongs to the evaluation work).
/// </summary>
public static class Sampling
{
    public static int[][] Sample(CausalLanguageModel model, IReadOnlyList<int[]> prompts, int newTokens, float temperature, ulong seed,
                                 int batchSize = 64, IProgress<double>? progress = null)
    {
        var results = prompts.Select(p => p.ToList()).ToArray();
        int done = 0;
        for (int start = 0; start < results.Length; start += batchSize)
        {
            var group = Enumerable.Range(start, Math.Min(batchSize, results.Length - start)).ToArray();
            for (int step = 0; step < newTokens; step++)
            {
                var batch = TokenBatch.Pad(group.Select(i => (results[i].ToArray(), new bool[results[i].Count])).ToList(), padId: 0);
                var positions = group.Select((i, b) => b * batch.Seq + results[i].Count - 1).ToArray();
                var logits = model.Logits(batch, positions);
                for (int b = 0; b < group.Length; b++)
                {
                    int i = group[b];
                    ulong draw = SplitMix64.Mix(seed ^ SplitMix64.Mix((ulong)i << 20 | (uint)step));
                    results[i].Add(Draw(logits[b], temperature, (draw >> 11) * (1.0 / (1UL << 53))));
                }
            }
            done += group.Length;
            progress?.Report((double)done / results.Length);
        }
        return results.Select(r => r.ToArray()).ToArray();
    }

    /// <summary>Inverse-CDF draw from softmax(logits / temperature) with a uniform u in [0, 1); temperature 0 = greedy.</summary>
    public static int Draw(float[] logits, float temperature, double u)
    {
        if (temperature <= 0) return Array.IndexOf(logits, logits.Max());
        double max = logits.Max();
        var weights = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
        double target = u * weights.Sum(), cumulative = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            cumulative += weights[i];
            if (cumulative > target) return i;
        }
        return weights.Length - 1;
    }
}
