using Qzo.Models;
using Qzo.Text;

namespace Qzo.Generation;

public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 32;
    public bool Greedy { get; init; } = true;
    public float Temperature { get; init; } = 1f;
    public float TopP { get; init; } = 1f;
    public int TopK { get; init; } = 0;
    public ulong Seed { get; init; } = 0;
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    public int BatchSize { get; init; } = 8;
}

/// <param name="Text">the continuation, cut before the first stop string.</param>
/// <param name="StopReason">"eos", "stop_string" or "length".</param>
public sealed record GeneratedText(string Text, int[] TokenIds, string StopReason);

/// <summary>
/// Greedy decoding, the plain way: every new token re-runs the whole left-padded batch and takes the argmax at the
/// last position. Correct and slow (no KV cache); it stands in for the cached generator with the same API.
/// </summary>
public static class TextGeneration
{
    public static IReadOnlyList<GeneratedText> Generate(CausalLanguageModel model, Tokenizer tokenizer, IReadOnlyList<string> prompts,
                                                        GenerationOptions options, IProgress<int>? progress = null)
    {
        var ids = prompts.Select(p => tokenizer.Encode(p)).ToList();
        var results = new GeneratedText[prompts.Count];
        Decode(model, ids, options, tokenizer.EosId, tokenizer.PadId ?? model.Config.PadTokenId ?? 0, (i, generated, eos) =>
        {
            string text = tokenizer.Decode(generated.ToArray());
            int cut = options.StopStrings.Where(s => s.Length > 0).Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(k => k >= 0).DefaultIfEmpty(-1).Min();
            if (cut >= 0) { results[i] = new GeneratedText(text[..cut], generated.ToArray(), "stop_string"); return true; }
            if (eos) { results[i] = new GeneratedText(text, generated.ToArray(), "eos"); return true; }
            if (generated.Count >= options.MaxNewTokens) { results[i] = new GeneratedText(text, generated.ToArray(), "length"); return true; }
            return false;
        }, progress);
        return results;
    }

    public static IReadOnlyList<int[]> GenerateIds(CausalLanguageModel model, IReadOnlyList<int[]> prompts, GenerationOptions options,
                                                   int? eosTokenId, int padTokenId)
    {
        var results = new int[prompts.Count][];
        Decode(model, prompts, options, eosTokenId, padTokenId, (i, generated, eos) =>
        {
            if (!eos && generated.Count < options.MaxNewTokens) return false;
            results[i] = generated.ToArray();
            return true;
        }, null);
        return results;
    }

    /// <param name="finished">called after each new token with (prompt index, tokens so far, whether it was EOS); true ends that row.</param>
    static void Decode(CausalLanguageModel model, IReadOnlyList<int[]> prompts, GenerationOptions options, int? eos, int pad,
                       Func<int, List<int>, bool, bool> finished, IProgress<int>? progress)
    {
        if (!options.Greedy) throw new QzoException("this generator decodes greedily only (GenerationOptions.Greedy = true)");
        if (options.MaxNewTokens < 1) throw new QzoException($"MaxNewTokens must be ≥ 1, got {options.MaxNewTokens}");
        if (prompts.Any(p => p.Length == 0)) throw new QzoException("cannot generate from an empty prompt");
        int batchSize = Math.Max(1, options.BatchSize), done = 0;
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            var active = Enumerable.Range(start, Math.Min(batchSize, prompts.Count - start)).ToList();
            var generated = active.ToDictionary(i => i, _ => new List<int>());
            while (active.Count > 0)
            {
                var sequences = active.Select(i => prompts[i].Concat(generated[i]).ToArray()).ToList();
                var batch = LeftPadded(sequences, pad);
                var logits = model.Logits(batch, active.Select((_, b) => b * batch.Seq + batch.Seq - 1).ToList());
                var next = new List<int>();
                for (int b = 0; b < active.Count; b++)
                {
                    int token = ArgMax(logits[b]);
                    generated[active[b]].Add(token);
                    if (!finished(active[b], generated[active[b]], token == eos)) next.Add(active[b]);
                    else progress?.Report(++done);
                }
                active = next;
            }
        }
    }

    static TokenBatch LeftPadded(IReadOnlyList<int[]> sequences, int pad)
    {
        int seq = sequences.Max(s => s.Length), n = sequences.Count * seq;
        var ids = Enumerable.Repeat(pad, n).ToArray();
        var mask = new int[n];
        var labels = Enumerable.Repeat(TokenBatch.Ignore, n).ToArray();
        for (int b = 0; b < sequences.Count; b++)
        {
            int first = seq - sequences[b].Length;
            for (int t = 0; t < sequences[b].Length; t++)
            {
                ids[b * seq + first + t] = sequences[b][t];
                mask[b * seq + first + t] = 1;
            }
        }
        return new TokenBatch { Batch = sequences.Count, Seq = seq, Ids = ids, AttentionMask = mask, Labels = labels };
    }

    static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
