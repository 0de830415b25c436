using Qzo.Models;

namespace Qzo.Generation;

/// <summary>A continuation as token ids, and why it ended (one of <see cref="StopReasons"/>).</summary>
sealed record Continuation(int[] TokenIds, string StopReason);

/// <summary>
/// Batched decoding with a KV cache: prompts BatchSize at a time, left-padded; a prefill pass over the prompts fills
/// the cache, then each step feeds only the previous token of every row. A row ends at an EOS id (kept as its last
/// token), when <c>stopAfter</c> says so, or after MaxNewTokens; the batch runs while any row does. The cache is
/// allocated once, for the longest prompt of all.
/// </summary>
static class CachedDecoder
{
    /// <param name="stopAfter">called after each new token with (prompt index, the row's tokens so far); true ends the row (a stop
    /// string).</param>
    /// <param name="suppressedIds">tokens never picked (transformers' min_new_tokens holding EOS back, for the parity check).</param>
    public static Continuation[] Run(CausalLanguageModel model, IReadOnlyList<int[]> prompts, GenerationOptions options,
        IReadOnlySet<int> eosIds,
                                     int padId, Func<int, IReadOnlyList<int>, bool>? stopAfter = null,
                                     IReadOnlyCollection<int>? suppressedIds = null, IProgress<int>? progress = null)
    {
        options.Validate();
        CheckIds(model.Config.VocabSize, prompts, padId);
        var results = new Continuation[prompts.Count];
        if (prompts.Count == 0) return results;
        if (options.MaxNewTokens == 0)
        {
            Array.Fill(results, new Continuation([], StopReasons.Length));
            progress?.Report(prompts.Count);
            return results;
        }
        int longest = prompts.Max(p => p.Length);
        int maxLength = longest + options.MaxNewTokens - 1; // the last new token is never fed back
        if (model.PositionLimit is int limit && maxLength > limit)
            throw new QzoException(
                $"a prompt of {longest} tokens and {options.MaxNewTokens} new tokens exceed the model's {limit} positions " +
                "(max_position_embeddings)");

        using var cache = model.CreateKvCache(Math.Min(options.BatchSize, prompts.Count), maxLength);
        var logits = new float[(long)cache.Capacity * model.Config.VocabSize];
        for (int start = 0; start < prompts.Count; start += cache.Capacity)
        {
            int count = Math.Min(cache.Capacity, prompts.Count - start);
            var batch = new Batch(model, cache, options, eosIds, padId, stopAfter, suppressedIds ?? [], logits, start, count);
            batch.Run(prompts).CopyTo(results, start);
            progress?.Report(start + count);
        }
        return results;
    }

    static void CheckIds(int vocab, IReadOnlyList<int[]> prompts, int padId)
    {
        if ((uint)padId >= (uint)vocab) throw new QzoException($"the padding token id {padId} is outside the vocabulary (0..{vocab - 1})");
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Length == 0) throw new QzoException(
                $"prompt {i} has no tokens: nothing to continue from (the tokenizer adds no BOS)");
            foreach (int id in prompts[i])
                if ((uint)id >= (uint)vocab) throw new QzoException(
                    $"prompt {i}: token id {id} is outside the vocabulary (0..{vocab - 1})");
        }
    }

    /// <summary>The rows start..start+count−1 of the prompts, decoded together.</summary>
    sealed class Batch(CausalLanguageModel model, KvCache cache, GenerationOptions options, IReadOnlySet<int> eosIds, int padId,
                       Func<int, IReadOnlyList<int>, bool>? stopAfter, IReadOnlyCollection<int> suppressedIds, float[] logits, int start,
                       int count)
    {
        readonly List<int>[] _tokens = Enumerable.Range(0, count).Select(_ => new List<int>(options.MaxNewTokens)).ToArray();
        readonly string?[] _reasons = new string?[count];

        public Continuation[] Run(IReadOnlyList<int[]> prompts)
        {
            cache.Reset(count);
            var batch = TokenBatch.PadLeft(prompts.Skip(start).Take(count).ToList(), padId);
            model.ForwardCached(cache, batch.Ids, batch.AttentionMask, logits);
            for (int step = 0; ; step++)
            {
                PickNextTokens(step);
                if (_reasons.All(r => r is not null)) break;
                // Finished rows take padding, which no running row sees.
                var next = Enumerable.Range(0, count).Select(r => _reasons[r] is null ? _tokens[r][^1] : padId).ToArray();
                model.ForwardCached(cache, next, Enumerable.Repeat(1, count).ToArray(), logits);
            }
            return Enumerable.Range(0, count).Select(r => new Continuation(_tokens[r].ToArray(), _reasons[r]!)).ToArray();
        }

        void PickNextTokens(int step)
        {
            int vocab = model.Config.VocabSize;
            for (int r = 0; r < count; r++)
            {
                if (_reasons[r] is not null) continue;
                var row = logits.AsSpan(r * vocab, vocab);
                foreach (int id in suppressedIds) row[id] = float.NegativeInfinity;
                int token = TokenSampler.Pick(row, options, TokenSampler.Uniform(options.Seed, start + r, step));
                _tokens[r].Add(token);
                if (eosIds.Contains(token)) _reasons[r] = StopReasons.Eos;
                else if (stopAfter?.Invoke(start + r, _tokens[r]) == true) _reasons[r] = StopReasons.StopString;
                else if (_tokens[r].Count == options.MaxNewTokens) _reasons[r] = StopReasons.Length;
            }
        }
    }
}
