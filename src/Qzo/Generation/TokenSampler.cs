using Qzo.Numerics;

namespace Qzo.Generation;

/// <summary>
/// Picks the next token from a row of logits: the first largest (greedy, as torch.argmax), or a draw from
/// softmax(logits / temperature) kept to the tokens transformers' warpers keep, in their order: top-k (every token
/// at least as likely as the k-th, ties included), then top-p (the most likely tokens, by logit then id, until their
/// mass reaches p; always at least one).
/// </summary>
static class TokenSampler
{
    public static int Pick(ReadOnlySpan<float> logits, GenerationOptions options, double u) =>
        options.Greedy ? ArgMax(logits) : Draw(logits, options.Temperature, options.TopK, options.TopP, u);

    /// <summary>
    /// The uniform in [0, 1) for token <paramref name="step"/> of prompt <paramref name="prompt"/>: a function of
    /// (seed, prompt, step) alone, so a prompt's continuation does not depend on the batch it shares.
    /// </summary>
    public static double Uniform(ulong seed, int prompt, int step) =>
        (SplitMix64.Mix(seed ^ SplitMix64.Mix((ulong)(uint)prompt << 32 | (uint)step)) >> 11) * (1.0 / (1UL << 53));

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>Inverse-CDF draw (in id order) with <paramref name="u"/> from the kept tokens' renormalized probabilities.</summary>
    public static int Draw(ReadOnlySpan<float> logits, float temperature, int topK, float topP, double u)
    {
        int best = ArgMax(logits);
        float max = logits[best];
        if (float.IsNegativeInfinity(max)) throw new InvalidOperationException("every token is excluded");
        var weights = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++) weights[i] = Math.Exp((logits[i] - (double)max) / temperature);
        if (topK > 0 && topK < logits.Length)
        {
            float kth = KthLargest(logits, topK);
            for (int i = 0; i < logits.Length; i++)
                if (logits[i] < kth) weights[i] = 0;
        }
        if (topP < 1) KeepNucleus(logits, weights, topP);

        double target = u * weights.Sum(), cumulative = 0;
        int last = best;
        for (int i = 0; i < weights.Length; i++)
        {
            if (weights[i] == 0) continue;
            cumulative += weights[i];
            last = i;
            if (cumulative > target) return i;
        }
        return last;
    }

    static float KthLargest(ReadOnlySpan<float> logits, int k)
    {
        var smallestKept = new PriorityQueue<float, float>(k + 1);
        foreach (float l in logits)
        {
            if (smallestKept.Count < k) smallestKept.Enqueue(l, l);
            else if (l > smallestKept.Peek()) smallestKept.EnqueueDequeue(l, l);
        }
        return smallestKept.Peek();
    }

    /// <summary>
    /// Zeroes every weight outside the nucleus. The nucleus lies within any set of most likely tokens whose mass
    /// reaches p, so only such a set (found by lowering a threshold) is sorted, not the whole vocabulary.
    /// </summary>
    static void KeepNucleus(ReadOnlySpan<float> logits, double[] weights, float topP)
    {
        double needed = topP * weights.Sum();
        int[] candidates = [];
        foreach (double threshold in new[] { 1e-3, 1e-6, 1e-12, 0 })
        {
            double mass = 0;
            var set = new List<int>();
            for (int i = 0; i < weights.Length; i++)
                if (weights[i] > 0 && weights[i] >= threshold) { set.Add(i); mass += weights[i]; }
            candidates = set.ToArray();
            if (mass >= needed) break;
        }
        var logitsCopy = logits.ToArray();
        Array.Sort(candidates, (a, b) => logitsCopy[a] != logitsCopy[b] ? logitsCopy[b].CompareTo(logitsCopy[a]) : a.CompareTo(b));
        var kept = new bool[weights.Length];
        double before = 0;
        foreach (int i in candidates)
        {
            if (before >= needed) break;
            kept[i] = true;
            before += weights[i];
        }
        for (int i = 0; i < weights.Length; i++)
            if (!kept[i]) weights[i] = 0;
    }
}
