using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// The bf16 parity cases on the GPU backend (bf16 activations): ILGPU's CPU accelerator here, CUDA through `qzo-device tests`
/// (tests/Qzo.DeviceTests), where diffusers and transformers recorded them. Same checks and tolerance (2e-2) as on the CPU.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuParityTests(ITestOutputHelper output)
{
    [Fact]
    public void TransformerMatchesDiffusers()
    {
        using var backend = TestBackends.Gpu();
        TransformerParity.Check(backend, "transformer-bf16", output);
    }

    [Fact]
    public void VaeMatchesDiffusers()
    {
        using var backend = TestBackends.Gpu();
        VaeParity.Check(backend, "vae-bf16", output);
    }

    [Theory, InlineData("clip-l-bf16"), InlineData("clip-g-bf16")]
    public void ClipMatchesTransformers(string caseName)
    {
        using var backend = TestBackends.Gpu();
        ClipParity.Check(backend, caseName, output);
    }

    [Fact]
    public void T5MatchesTransformers()
    {
        using var backend = TestBackends.Gpu();
        T5Parity.Check(backend, "t5-bf16", output);
    }

    [Fact]
    public void PipelineMatchesDiffusers()
    {
        using var backend = TestBackends.Gpu();
        PipelineParity.Check(backend, "pipeline-bf16", output);
    }
}
