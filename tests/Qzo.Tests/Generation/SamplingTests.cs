using Qzo.Compute.Cpu;
using Qzo.Generation;
using Qzo.Models;
using Qzo.Tests.Models;

namespace Qzo.Tests.Generation;

/// <summary>
/// Sampling: the sampler's distribution against transformers' warpers written out plainly (temperature, then top-k
/// keeping ties at the k-th logit, then the top-p nucleus), and sampled generation: reproducible from the seed,
/// independent of batching, inside top-k and the nucleus at every step, and greedy where those keep one token.
/// </summary>
public class SamplingTests
{
    static readonly float[] Logits = [2f, 1f, 1f, 0.5f, -1f, 3f, 3f, 0f, -2f, 1f];

    [Theory]
    [InlineData(1f, 0, 1f)]
    [InlineData(0.5f, 0, 1f)]     // a low temperature sharpens
    [InlineData(2f, 3, 1f)]       // top-3: the two 3s and the 2
    [InlineData(1f, 4, 1f)]       // top-4 ends inside the three 1s: all three kept
    [InlineData(1f, 0, 0.6f)]     // the nucleus: the two 3s
    [InlineData(1.5f, 6, 0.8f)]   // top-k, then top-p on what remains
    [InlineData(1f, 0, 1e-6f)]    // a tiny nucleus: the first most likely token only
    public void DrawsFollowTheWarpedDistribution(float temperature, int topK, float topP)
    {
        var expected = WarpedDistribution(Logits, temperature, topK, topP);
        const int draws = 20_000;
        var counts = new int[Logits.Length];
        for (int i = 0; i < draws; i++) counts[TokenSampler.Draw(Logits, temperature, topK, topP, (i + 0.5) / draws)]++;
        // u on an even grid: the inverse CDF gives every token its share of the grid, give or take one point.
        for (int token = 0; token < Logits.Length; token++)
            Assert.True(Math.Abs(counts[token] - expected[token] * draws) <= 1,
                $"token {token}: {counts[token]} draws, expected {expected[token] * draws:F1}");
    }

    /// <summary>
    /// softmax(logits / T); keep logits ≥ the k-th largest; keep the most likely (by logit, then id) while the mass before them is
    /// below p.
    /// </summary>
    static double[] WarpedDistribution(float[] logits, float temperature, int topK, float topP)
    {
        var weights = logits.Select(l => Math.Exp(l / (double)temperature)).ToArray();
        if (topK > 0)
        {
            float kth = logits.OrderByDescending(l => l).ElementAt(topK - 1);
            for (int i = 0; i < logits.Length; i++) if (logits[i] < kth) weights[i] = 0;
        }
        double total = weights.Sum(), before = 0;
        foreach (int i in Enumerable.Range(0, logits.Length).Where(i => weights[i] > 0)
                     .OrderByDescending(i => logits[i]).ThenBy(i => i).ToList())
        {
            if (before >= topP * total) weights[i] = 0;
            before += weights[i];
        }
        double kept = weights.Sum();
        return weights.Select(w => w / kept).ToArray();
    }

    [Fact]
    public void GreedyTakesTheFirstLargestLogit()
    {
        Assert.Equal(5, TokenSampler.ArgMax(Logits));
        var options = new GenerationOptions();
        Assert.Equal(5, TokenSampler.Pick(Logits, options, 0.999));
    }

    [Fact]
    public void SampledGenerationIsReproducibleFromTheSeedWhateverTheBatching()
    {
        using var model = new TinyModel();
        var prompts = GenerationChecks.Prompts(model.Vocab);
        var options = new GenerationOptions { Greedy = false, MaxNewTokens = 12, Seed = 5, BatchSize = 3 };
        var first = model.Generate(prompts, options);
        Assert.Equal(first, model.Generate(prompts, options));
        Assert.Equal(first, model.Generate(prompts, options with { BatchSize = 1 }));
        Assert.Equal(first[1], model.Generate([prompts[0], prompts[1]], options)[1]); // its place in the prompt list, not its batch
        Assert.NotEqual(first, model.Generate(prompts, options with { Seed = 6 }));
        Assert.NotEqual(first, model.Generate(prompts, options with { Greedy = true }));
    }

    [Fact]
    public void TopKOfOneAndATinyNucleusAreGreedy()
    {
        using var model = new TinyModel();
        var prompts = GenerationChecks.Prompts(model.Vocab);
        var greedy = model.Generate(prompts, new GenerationOptions { MaxNewTokens = 10 });
        var sampled = new GenerationOptions { Greedy = false, MaxNewTokens = 10, Temperature = 3f, Seed = 9 };
        Assert.Equal(greedy, model.Generate(prompts, sampled with { TopK = 1 }));
        Assert.Equal(greedy, model.Generate(prompts, sampled with { TopP = 1e-6f }));
        Assert.NotEqual(greedy, model.Generate(prompts, sampled));
    }

    [Theory]
    [InlineData(1.5f, 4, 1f)]
    [InlineData(1f, 0, 0.5f)]
    [InlineData(2f, 8, 0.7f)]
    public void EverySampledTokenIsInsideTopKAndTheNucleus(float temperature, int topK, float topP)
    {
        using var model = new TinyModel();
        var prompts = GenerationChecks.Prompts(model.Vocab);
        var options = new GenerationOptions
        {
            Greedy = false, MaxNewTokens = 8, Temperature = temperature, TopK = topK, TopP = topP, Seed = 21
        };
        var generated = model.Generate(prompts, options);
        const double slack = 1e-4; // the cached and full-forward logits may differ in rounding
        int belowTheTop = 0;
        for (int b = 0; b < prompts.Length; b++)
            for (int step = 0; step < generated[b].Length; step++)
            {
                var logits = GenerationChecks.FullForwardLogits(model.Model, [prompts[b].Concat(generated[b].Take(step)).ToArray()],
                    alone: true)[0];
                float chosen = logits[generated[b][step]];
                if (topK > 0) Assert.True(logits.Count(l => l > chosen + slack) < topK, $"prompt {b}, step {step}: outside the top {topK}");
                double max = logits.Max();
                var weights = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
                if (topK > 0)
                {
                    float kth = logits.OrderByDescending(l => l).ElementAt(topK - 1);
                    for (int i = 0; i < weights.Length; i++) if (logits[i] < kth - slack) weights[i] = 0;
                }
                double higher = logits.Select((l, i) => l > chosen + slack ? weights[i] : 0).Sum();
                Assert.True(higher < topP * weights.Sum() + slack, $"prompt {b}, step {step}: outside the {topP} nucleus");
                if (chosen < logits.Max()) belowTheTop++;
            }
        Assert.True(belowTheTop > 0, "every draw was the most likely token: nothing was sampled");
    }

    [Fact]
    public void TheDemosSamplerDrawsWhatTheFullForwardPassWouldGiveIt()
    {
        // Sampling.Sample (the demo's teacher data) on the cache, against the same draws from the whole forward pass over each prefix.
        using var model = new TinyModel();
        var prompts = GenerationChecks.Prompts(model.Vocab);
        const ulong seed = 77; const int newTokens = 6;
        var sampled = Sampling.Sample(model.Model, prompts, newTokens, temperature: 1f, seed, batchSize: 2);
        for (int i = 0; i < prompts.Length; i++)
        {
            var tokens = prompts[i].ToList();
            for (int step = 0; step < newTokens; step++)
            {
                var logits = GenerationChecks.FullForwardLogits(model.Model, [tokens.ToArray()], alone: true)[0];
                ulong draw = Qzo.Numerics.SplitMix64.Mix(seed ^ Qzo.Numerics.SplitMix64.Mix((ulong)i << 20 | (uint)step));
                tokens.Add(Sampling.Draw(logits, 1f, (draw >> 11) * (1.0 / (1UL << 53))));
            }
            Assert.Equal(tokens, sampled[i]);
        }
    }

    /// <summary>The tiny Llama on the CPU, generating without EOS.</summary>
    sealed class TinyModel : IDisposable
    {
        readonly TempFolder _folder = new();
        readonly Checkpoint _checkpoint;
        readonly CpuBackend _backend = new();

        public TinyModel()
        {
            _checkpoint = Checkpoint.Open(TinyModels.Dense(_folder));
            Model = ModelLoader.Load(_checkpoint, _backend, TrainingScope.None);
        }

        public CausalLanguageModel Model { get; }
        public int Vocab => Model.Config.VocabSize;

        public IReadOnlyList<int[]> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options) =>
            TextGeneration.GenerateIds(Model, prompts, options, eosTokenId: null, padTokenId: 0);

        public void Dispose()
        {
            Model.Dispose();
            _backend.Dispose();
            _checkpoint.Dispose();
            _folder.Dispose();
        }
    }
}
