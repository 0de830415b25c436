using Qzo.Generation;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Tests.Models;
using Xunit.Abstractions;

namespace Qzo.Tests.Generation;

/// <summary>
/// Generation with the KV cache against the plain definition: the whole forward pass re-run over each row's prefix
/// (no left padding, no cache), reading the logits of its last position. Shared by the CPU and GPU-backend tests.
/// </summary>
static class GenerationChecks
{
    /// <summary>Prompts of different lengths, so a batch of them is left-padded.</summary>
    public static int[][] Prompts(int vocab) =>
        [TinyModels.RandomIds(7, vocab, 41), TinyModels.RandomIds(3, vocab, 42), TinyModels.RandomIds(5, vocab, 43)];

    /// <summary>The tiny synthesized checkpoints: Llama with GQA and llama3 RoPE; Mistral (window 4), Qwen2 (q/k/v biases), OPT.</summary>
    public static string Checkpoint(TempFolder folder, IArchitecture architecture) => architecture == ArchitectureRegistry.Llama
        ? TinyModels.Dense(folder)
        : TinyModels.Dense(folder, architecture, architecture.Name.ToLowerInvariant());

    /// <summary>
    /// The whole forward pass's logits at the last token of each sequence: one sequence per pass (<paramref name="alone"/>),
    /// or all in one right-padded batch, which leaves every real token's computation as it is alone (for the slow GPU simulator).
    /// </summary>
    public static float[][] FullForwardLogits(CausalLanguageModel model, IReadOnlyList<int[]> sequences, bool alone)
    {
        if (alone) return sequences.Select(s => FullForwardLogits(model, [s], alone: false)[0]).ToArray();
        var batch = TokenBatch.Pad(sequences.Select(s => (s, new bool[s.Length])).ToList(), padId: 0);
        return model.Logits(batch, sequences.Select((s, b) => b * batch.Seq + s.Length - 1).ToArray());
    }

    /// <summary>Greedy decoding by re-running the whole prefix for each token; with each pick, its lead over the runner-up.</summary>
    public static (int[][] Tokens, double[][] Margins) FullForwardGreedy(CausalLanguageModel model, int[][] prompts, int newTokens,
        bool alone)
    {
        var sequences = prompts.Select(p => p.ToList()).ToArray();
        var margins = prompts.Select(_ => new double[newTokens]).ToArray();
        for (int step = 0; step < newTokens; step++)
        {
            var logits = FullForwardLogits(model, sequences.Select(s => s.ToArray()).ToList(), alone);
            for (int b = 0; b < prompts.Length; b++)
            {
                var top = logits[b].Select((l, i) => (l, i)).OrderByDescending(x => x.l).ThenBy(x => x.i).Take(2).ToArray();
                margins[b][step] = top[0].l - top[1].l;
                sequences[b].Add(top[0].i);
            }
        }
        return (sequences.Select((s, b) => s.Skip(prompts[b].Length).ToArray()).ToArray(), margins);
    }

    /// <summary>
    /// Feeds every row the same continuation through the cache (a left-padded prefill, then one token per step) and
    /// compares the logits of each row's last token with the full forward pass over that row; their largest difference
    /// must stay within <paramref name="relativeTolerance"/> of the largest logit, the bound returned.
    /// </summary>
    public static double CachedLogitsMatchTheFullForward(CausalLanguageModel model, int steps, double relativeTolerance, bool alone,
        ITestOutputHelper output)
    {
        int vocab = model.Config.VocabSize;
        var prompts = Prompts(vocab);
        var continuations = prompts.Select((_, b) => TinyModels.RandomIds(steps, vocab, 50 + b)).ToArray();
        var batch = TokenBatch.PadLeft(prompts, padId: 0);
        using var cache = model.CreateKvCache(prompts.Length, batch.Seq + steps);
        var logits = new float[prompts.Length * vocab];
        double worst = 0, scale = 0;
        model.ForwardCached(cache, batch.Ids, batch.AttentionMask, logits);
        for (int step = 0; ; step++)
        {
            var allExpected = FullForwardLogits(model,
                prompts.Select((p, b) => p.Concat(continuations[b].Take(step)).ToArray()).ToList(), alone);
            for (int b = 0; b < prompts.Length; b++)
            {
                var expected = allExpected[b];
                for (int v = 0; v < vocab; v++)
                {
                    worst = Math.Max(worst, Math.Abs(expected[v] - logits[b * vocab + v]));
                    scale = Math.Max(scale, Math.Abs(expected[v]));
                }
            }
            if (step == steps) break;
            model.ForwardCached(cache, continuations.Select(c => c[step]).ToArray(), Enumerable.Repeat(1, prompts.Length).ToArray(),
                logits);
        }
        output.WriteLine($"{model.Config.Architecture}: cached vs full-forward logits differ by at most {worst:E2} " +
            $"(largest |logit| {scale:F2}) over {steps + 1} passes");
        Assert.True(worst <= relativeTolerance * scale, $"cached logits differ from the full forward pass by {worst} at scale {scale}");
        return relativeTolerance * scale;
    }

    /// <summary>
    /// Greedy generation through <see cref="TextGeneration.GenerateIds"/>, batched (left padding; the second batch reuses
    /// the cache with fewer rows), against <see cref="FullForwardGreedy"/> one prompt at a time. A different pick is
    /// accepted only where the reference's best two logits are within <paramref name="tieTolerance"/> (rounding may break
    /// such a tie either way); that row's comparison ends there. Returns how many tokens matched.
    /// </summary>
    public static int GreedyMatchesTheFullForward(CausalLanguageModel model, int newTokens, int batchSize, double tieTolerance, bool alone,
        ITestOutputHelper output)
    {
        var prompts = Prompts(model.Config.VocabSize);
        var actual = TextGeneration.GenerateIds(model, prompts, new GenerationOptions { MaxNewTokens = newTokens, BatchSize = batchSize },
            eosTokenId: null, padTokenId: 0);
        var (allExpected, allMargins) = FullForwardGreedy(model, prompts, newTokens, alone);
        int matched = 0;
        for (int b = 0; b < prompts.Length; b++)
        {
            var (expected, margins) = (allExpected[b], allMargins[b]);
            Assert.Equal(newTokens, actual[b].Length);
            for (int step = 0; step < newTokens; step++)
            {
                if (actual[b][step] == expected[step]) { matched++; continue; }
                Assert.True(margins[step] <= tieTolerance,
                    $"prompt {b}, step {step}: the cache picks {actual[b][step]}, the full forward {expected[step]} " +
                    $"by a margin of {margins[step]}");
                output.WriteLine($"prompt {b}: a near tie (margin {margins[step]:E2}) broken the other way at step {step}");
                break;
            }
        }
        output.WriteLine(
            $"{model.Config.Architecture}: {matched} of {prompts.Length * newTokens} greedy tokens as the full forward pass picks them");
        return matched;
    }
}
