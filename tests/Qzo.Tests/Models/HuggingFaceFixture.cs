using System.Text.Json;
using Qzo.Compute;
using Qzo.Generation;
using Qzo.Models;
using Xunit.Abstractions;

namespace Qzo.Tests.Models;

/// <summary>
/// reference.json as tests/oracle/llama_reference.py and architectures_reference.py write it, and the checks of
/// our CPU forward pass against it. The top level is a right-padded batch; the architectures oracle adds the same
/// sequences padded on the left and greedy generations.
/// </summary>
sealed record HuggingFaceFixture(int[][] input_ids, int[][] attention_mask, int[][] labels, int[] lengths, float[]? inv_freq,
                                 FixtureRun fp32, FixtureRun fp64, FixtureBatch? left_padding, int[]? suppressed_token_ids,
                                 FixtureGeneration[]? generation)
{
    // transformers' fp64 loss on some padded batches is NaN (Python's json writes a bare NaN): the all-masked pad rows
    // give NaN logits, and its cross-entropy multiplies their ignored terms by 0. The per-sequence sums (the oracle's
    // own, over real rows only) stay finite, and the loss is checked against the fp32 run.
    static readonly JsonSerializerOptions Options =
        new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static HuggingFaceFixture Load(string folder)
    {
        string json = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(Path.Combine(folder, "reference.json")),
            @"(?<=[:\[,]\s*)NaN\b", "\"NaN\"");
        return JsonSerializer.Deserialize<HuggingFaceFixture>(json, Options)!;
    }

    public FixtureBatch RightPadding => new(input_ids, attention_mask, labels, lengths, fp32, fp64);
}

sealed record FixtureBatch(int[][] input_ids, int[][] attention_mask, int[][] labels, int[] lengths, FixtureRun fp32, FixtureRun fp64)
{
    public TokenBatch ToTokenBatch() => new()
    {
        Batch = input_ids.Length, Seq = input_ids[0].Length,
        Ids = input_ids.SelectMany(r => r).ToArray(),
        AttentionMask = attention_mask.SelectMany(r => r).ToArray(),
        Labels = labels.SelectMany(r => r).ToArray(),
    };
}

sealed record FixtureRun(double loss, FixturePerSequence[] per_sequence, float[][] last_logits, float[][] first_sequence_logits);
sealed record FixturePerSequence(double sum, int count);
sealed record FixtureGeneration(int[] prompt, int[] tokens, double[] margins, bool plain_loop_agrees);

static class HuggingFaceChecks
{
    /// <summary>
    /// Loss, per-sequence NLL, logits at each row's last real token and at every position of row 0, against
    /// transformers' fp32 run. Tolerance: 1e-4 per unit of logit scale (transformers' own fp32 error is ~1e-6 per unit).
    /// </summary>
    public static double CheckBatch(CausalLanguageModel model, FixtureBatch reference, string what, ITestOutputHelper output)
    {
        var tokens = reference.ToTokenBatch();
        int seq = tokens.Seq;
        var losses = model.Loss(tokens, Perturbation.None);
        var lastPositions = reference.attention_mask.Select((row, b) => b * seq + Array.LastIndexOf(row, 1)).ToArray();
        var last = model.Logits(tokens, lastPositions);
        var first = model.Logits(tokens, Enumerable.Range(0, seq).ToArray());

        double lossDiff = Math.Abs(losses.Mean - reference.fp32.loss);
        double maxLast = MaxAbsDiff(last, reference.fp32.last_logits);
        double maxFirst = MaxAbsDiff(first, reference.fp32.first_sequence_logits);
        double ownError = Math.Max(MaxAbsDiff(last, reference.fp64.last_logits), MaxAbsDiff(first, reference.fp64.first_sequence_logits));
        double hfError = Math.Max(MaxAbsDiff(reference.fp32.last_logits, reference.fp64.last_logits),
                                  MaxAbsDiff(reference.fp32.first_sequence_logits, reference.fp64.first_sequence_logits));
        double scale = reference.fp64.first_sequence_logits.SelectMany(r => r).Max(v => Math.Abs((double)v));
        output.WriteLine($"{what}: |loss - hf| = {lossDiff:E2} (loss {losses.Mean:F6}); " +
                         $"max |logit - hf fp32| last {maxLast:E2}, all of seq 0 {maxFirst:E2}; " +
                         $"vs fp64: ours {ownError:E2}, transformers fp32 {hfError:E2}; largest |logit| {scale:F1}");

        double tolerance = LogitTolerance(scale);
        Assert.True(maxLast <= tolerance, $"{what}: last-position logits differ by {maxLast}");
        Assert.True(maxFirst <= tolerance, $"{what}: sequence-0 logits differ by {maxFirst}");
        Assert.True(lossDiff <= 1e-5 * Math.Max(1, reference.fp32.loss), $"{what}: loss differs by {lossDiff}");
        for (int b = 0; b < tokens.Batch; b++)
        {
            // transformers' fp64 run spreads NaN from pad rows into the real rows of a padded sequence (0 × NaN in
            // attention); there its fp32 run is the reference.
            var expected = double.IsFinite(reference.fp64.per_sequence[b].sum)
                ? reference.fp64.per_sequence[b]
                : reference.fp32.per_sequence[b];
            Assert.Equal(expected.count, losses.Count[b]);
            Assert.Equal(expected.sum, losses.Sum[b], 1e-5 * Math.Max(1, expected.sum));
        }
        return scale;
    }

    public static double LogitTolerance(double scale) => 1e-4 * Math.Max(1, scale / 10);

    /// <summary>
    /// Greedy decoding with the KV cache, every prompt in one left-padded batch, the suppressed ids (EOS, held back by
    /// min_new_tokens) never picked. Tokens must equal transformers' generate(); a different pick is accepted only
    /// where transformers' best two scores were within the logit tolerance (a tie that rounding may break either
    /// way), and the comparison ends there because the prefixes then differ.
    /// </summary>
    public static void CheckGeneration(CausalLanguageModel model, HuggingFaceFixture reference, double scale, ITestOutputHelper output)
    {
        var generations = reference.generation!;
        var options = new GenerationOptions { MaxNewTokens = generations.Max(g => g.tokens.Length), BatchSize = generations.Length };
        var generated = CachedDecoder.Run(model, generations.Select(g => g.prompt).ToList(), options, eosIds: new HashSet<int>(), padId: 0,
                                          suppressedIds: reference.suppressed_token_ids ?? []);
        for (int i = 0; i < generations.Length; i++)
        {
            var g = generations[i];
            Assert.True(g.plain_loop_agrees,
                "transformers' generate() and its own full-forward argmax loop disagree; the fixture's greedy semantics are not ours");
            int matched = 0;
            for (int step = 0; step < g.tokens.Length; step++)
            {
                int ours = generated[i].TokenIds[step];
                if (ours != g.tokens[step])
                {
                    Assert.True(g.margins[step] <= 10 * LogitTolerance(scale),
                        $"prompt [{string.Join(", ", g.prompt)}], step {step}: we pick {ours}, transformers {g.tokens[step]} " +
                        $"with a margin of {g.margins[step]}");
                    break;
                }
                matched++;
            }
            output.WriteLine($"greedy from a {g.prompt.Length}-token prompt: {matched} of {g.tokens.Length} tokens as transformers " +
                $"(smallest margin {g.margins.Min():E2})");
        }
    }

    static double MaxAbsDiff(float[][] a, float[][] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int r = 0; r < a.Length; r++)
        {
            Assert.Equal(a[r].Length, b[r].Length);
            for (int i = 0; i < a[r].Length; i++) max = Math.Max(max, Math.Abs((double)a[r][i] - b[r][i]));
        }
        return max;
    }
}
