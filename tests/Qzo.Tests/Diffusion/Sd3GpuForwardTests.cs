using Qzo.Compute.Cpu;
using Qzo.Diffusion.Sd3;
using Qzo.Numerics;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion;

/// <summary>
/// The transformer on the GPU backend (bf16 activations; here on ILGPU's CPU accelerator, on the device with
/// QZO_TEST_DEVICE=cuda) against the CPU backend (fp32) on the same bf16 weights. bf16 keeps 8 significant bits: after three
/// blocks the intermediates differ by about 1e-2 of their scale, the tolerance of the bf16 parity fixtures (2e-2).
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class Sd3GpuForwardTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryIntermediateMatchesTheCpuBackend()
    {
        using var temp = new TempFolder();
        var config = Sd3TestRuns.FixtureConfig();
        Sd3TransformerSynthesis.Write(temp["model"], config, DType.BF16, seed: 11);
        var inputs = Sd3TestRuns.RandomInputs(config, batch: 2, 10, 10, textTokens: 7, timesteps: [937.5f, 12.3f], seed: 5);

        using var cpuBackend = new CpuBackend();
        using var gpuBackend = TestBackends.Gpu();
        using var cpu = Sd3Transformer.Load(temp["model"], cpuBackend);
        using var gpu = Sd3Transformer.Load(temp["model"], gpuBackend);
        var expected = Sd3TestRuns.Run(cpu, inputs);
        var actual = Sd3TestRuns.Run(gpu, inputs);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, values) in expected) Sd3TestRuns.Compare(name, actual[name], values, 2e-2, output);
    }
}
