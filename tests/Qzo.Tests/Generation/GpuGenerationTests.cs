using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Tests.Models;
using Xunit.Abstractions;

namespace Qzo.Tests.Generation;

/// <summary>
/// Generation with the KV cache on the GPU backend (bf16; here on ILGPU's CPU accelerator, so small sizes) against the
/// whole forward pass on the same backend (over a right-padded batch of the prefixes: the simulator is slow). The two
/// paths round differently (the cached-attention kernel against the whole-sequence one), so logits agree to bf16
/// precision, as in <see cref="GpuForwardTests"/>, and greedy picks agree but for near ties within that precision.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuGenerationTests(ITestOutputHelper output)
{
    const double LogitTolerance = 0.02;

    [Theory]
    [InlineData("llama")]
    [InlineData("mistral")]
    [InlineData("qwen3")]
    [InlineData("gemma3_text")]
    public void CachedGenerationMatchesTheFullForwardPass(string modelType)
    {
        var architecture = ArchitectureRegistry.Get(modelType);
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(GenerationChecks.Checkpoint(folder, architecture));
        using var backend = TestBackends.Gpu();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        double tolerance = GenerationChecks.CachedLogitsMatchTheFullForward(model, steps: 2, LogitTolerance, alone: false, output);
        GenerationChecks.GreedyMatchesTheFullForward(model, newTokens: 3, batchSize: 2, tieTolerance: tolerance, alone: false, output);
    }
}
