using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Encoders;
using Qzo.Encoders.Clip;
using Qzo.Encoders.T5;
using Qzo.Numerics;
using Xunit.Abstractions;

namespace Qzo.Tests.Encoders;

/// <summary>
/// The text encoders on the GPU backend (bf16 activations; here on ILGPU's CPU accelerator) against the CPU backend
/// (fp32), on the same synthesized weights. Tolerance 3e-2 of the largest value: every activation is rounded to bf16
/// (8 significant bits) after each operation, and on the simulator the errors reach 1.0–1.5e-2 after two layers and
/// text_projection.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuEncoderTests(ITestOutputHelper output)
{
    const double Tolerance = 3e-2;

    [Fact]
    public void ClipTextModelMatchesTheCpuBackend()
    {
        using var temp = new TempFolder();
        var c = new ClipTextConfig
        {
            VocabSize = 49408, HiddenSize = 32, IntermediateSize = 37, Heads = 4, Layers = 2, ProjectionDim = 24, HiddenAct = "gelu",
            EosTokenId = 2,
        };
        ClipTextSynthesis.Write(temp.Path, c, new EncoderSynthOptions { Seed = 21, DType = DType.BF16 });
        int[] ids = [49406, 320, 1125, 539, 49407, 0, 0, 0, 0, 0, 49406, 3306, 1002, 267, 12, 46080, 7, 49407, 0, 0];
        using var cpuBackend = new CpuBackend();
        using var gpuBackend = TestBackends.Gpu();
        using var cpu = ClipTextLoader.Load(temp.Path, cpuBackend);
        using var gpu = ClipTextLoader.Load(temp.Path, gpuBackend);
        using var expected = cpu.Forward(ids, 2, 10, hiddenStates: [-2]);
        using var actual = gpu.Forward(ids, 2, 10, hiddenStates: [-2]);
        Assert.Equal(expected.PooledPositions, actual.PooledPositions);
        EncoderChecks.Close("hidden_states[-2]", HostFloats.Download(gpuBackend, actual.HiddenStates[1]),
                            HostFloats.Download(cpuBackend, expected.HiddenStates[1]), Tolerance, output);
        EncoderChecks.Close("last_hidden_state", HostFloats.Download(gpuBackend, actual.LastHiddenState),
                            HostFloats.Download(cpuBackend, expected.LastHiddenState), Tolerance, output);
        EncoderChecks.Close("text_embeds", HostFloats.Download(gpuBackend, actual.TextEmbeds!),
                            HostFloats.Download(cpuBackend, expected.TextEmbeds!), Tolerance, output);
    }

    [Fact]
    public void T5EncoderModelMatchesTheCpuBackend()
    {
        using var temp = new TempFolder();
        var c = new T5EncoderConfig
        {
            VocabSize = 32128, DModel = 32, DKv = 8, DFf = 48, Heads = 4, Layers = 2, FeedForwardProj = "gated-gelu",
        };
        T5EncoderSynthesis.Write(temp.Path, c, new EncoderSynthOptions { Seed = 23, DType = DType.BF16 });
        const int seq = 24;
        var ids = Enumerable.Range(0, 2 * seq).Select(i => i % seq < 9 ? 3 + i * 977 % 32000 : i % seq == 9 ? 1 : 0).ToArray();
        using var cpuBackend = new CpuBackend();
        using var gpuBackend = TestBackends.Gpu();
        using var cpu = T5EncoderLoader.Load(temp.Path, cpuBackend);
        using var gpu = T5EncoderLoader.Load(temp.Path, gpuBackend);
        using var expected = cpu.Forward(ids, 2, seq);
        using var actual = gpu.Forward(ids, 2, seq);
        EncoderChecks.Close("last_hidden_state", HostFloats.Download(gpuBackend, actual.LastHiddenState),
                            HostFloats.Download(cpuBackend, expected.LastHiddenState), Tolerance, output);
    }
}
