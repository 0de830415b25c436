using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// Ancestral sampling from a model with its KV cache (plain temperature sampling, no EOS: the demo's teacher data;
/// <see cref="Generation.TextGeneration"/> is the general generator). Prompts are left-padded per batch; the draw
/// for token <c>step</c> of prompt <c>i</c> depends on (seed, i, step) only.
/// </summary>
public static class Sampling
{
    public static int[][] Sample(CausalLanguageModel model, IReadOnlyList<int[]> prompts, int newTokens, float temperature, ulong seed,
                                 int batchSize = 64, IProgress<double>? progress = null)
    {
        var results = prompts.Select(p => p.ToList()).ToArray();
        if (results.Length == 0 || newTokens <= 0) return results.Select(r => r.ToArray()).ToArray();
        int vocab = model.Config.VocabSize, longest = prompts.Max(p => p.Length);
        if (model.PositionLimit is int limit && longest + newTokens - 1 > limit)
            throw new QzoException(
                $"sequences of {longest + newTokens} tokens exceed the model's {limit} positions (max_position_embeddings)");
        using var cache = model.CreateKvCache(Math.Min(batchSize, results.Length), longest + newTokens - 1);
        var logits = new float[cache.Capacity * vocab];
        int done = 0;
        for (int start = 0; start < results.Length; start += cache.Capacity)
        {
            var group = Enumerable.Range(start, Math.Min(cache.Capacity, results.Length - start)).ToArray();
            cache.Reset(group.Length);
            var batch = TokenBatch.PadLeft(group.Select(i => prompts[i]).ToList(), padId: 0);
            model.ForwardCached(cache, batch.Ids, batch.AttentionMask, logits);
            for (int step = 0; step < newTokens; step++)
            {
                if (step > 0) model.ForwardCached(cache, group.Select(i => results[i][^1]).ToArray(),
                    Enumerable.Repeat(1, group.Length).ToArray(), logits);
                for (int b = 0; b < group.Length; b++)
                {
                    int i = group[b];
                    ulong draw = SplitMix64.Mix(seed ^ SplitMix64.Mix((ulong)i << 20 | (uint)step));
                    results[i].Add(Draw(logits.AsSpan(b * vocab, vocab).ToArray(), temperature, (draw >> 11) * (1.0 / (1UL << 53))));
                }
                progress?.Report((done + group.Length * (step + 1.0) / newTokens) / results.Length);
            }
            done += group.Length;
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
