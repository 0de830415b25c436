using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Tests.Models;
using Xunit.Abstractions;

namespace Qzo.Tests.Generation;

/// <summary>
/// Generation with the KV cache on the CPU backend equals re-running the whole forward pass for every token, for each
/// architecture: Llama (GQA, llama3 RoPE), Mistral (a window of 4, shorter than prompt + generation), Qwen2 (q/k/v
/// biases) and OPT (learned positions), batched with left padding against one prompt at a time. fp32: the two paths
/// differ only by rounding (~1e-6 of the logit scale).
/// </summary>
public class KvCacheGenerationTests(ITestOutputHelper output)
{
    const double LogitTolerance = 1e-5;

    [Theory]
    [InlineData("llama")]
    [InlineData("mistral")]
    [InlineData("qwen2")]
    [InlineData("opt")]
    [InlineData("qwen3")]
    [InlineData("gemma3_text")]
    public void CachedGenerationMatchesTheFullForwardPass(string modelType)
    {
        var architecture = ArchitectureRegistry.Get(modelType);
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(GenerationChecks.Checkpoint(folder, architecture));
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        double tolerance = GenerationChecks.CachedLogitsMatchTheFullForward(model, steps: 9, LogitTolerance, alone: true, output);
        GenerationChecks.GreedyMatchesTheFullForward(model, newTokens: 10, batchSize: 2, tieTolerance: tolerance, alone: true, output);
        Assert.Equal(0, backend.Memory.Current(MemoryCategory.KvCache)); // each cache is freed after use
        Assert.True(backend.Memory.Peak(MemoryCategory.KvCache) > 0);
    }

    [Fact]
    public void TheMistralWindowHoldsDuringDecoding()
    {
        // The same weights without the window continue the same prompt differently once it is longer than the window.
        using var folder = new TempFolder();
        string windowed = TinyModels.Dense(folder, ArchitectureRegistry.Mistral, "windowed");
        string full = TinyModels.Dense(folder, ArchitectureRegistry.Mistral, "full", o => o with { SlidingWindow = null });
        var prompt = TinyModels.RandomIds(3, 320, 44);
        float[] LastLogitsAfter(string path, int[] tokens)
        {
            using var checkpoint = Checkpoint.Open(path);
            using var backend = new CpuBackend();
            using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
            using var cache = model.CreateKvCache(1, tokens.Length);
            var logits = new float[model.Config.VocabSize];
            model.ForwardCached(cache, tokens[..3], [1, 1, 1], logits);
            foreach (int token in tokens[3..]) model.ForwardCached(cache, [token], [1], logits);
            return logits;
        }
        var inside = prompt.Concat(TinyModels.RandomIds(1, 320, 45)).ToArray();   // 4 tokens: the window sees them all
        var beyond = prompt.Concat(TinyModels.RandomIds(5, 320, 45)).ToArray();   // 8 tokens: it does not
        Assert.Equal(LastLogitsAfter(full, inside), LastLogitsAfter(windowed, inside));
        double difference = LastLogitsAfter(full, beyond).Zip(LastLogitsAfter(windowed, beyond), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(difference > 1e-3, $"the window changed the logits by only {difference}");
    }
}
