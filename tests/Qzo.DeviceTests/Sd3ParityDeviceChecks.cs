using Qzo.Compute.Cuda;
using Qzo.Tests.Diffusion.Parity;
using Xunit.Abstractions;

namespace Qzo.DeviceTests;

/// <summary>
/// The bf16 parity cases on CUDA (bf16 activations, as diffusers and transformers ran when they recorded them), with the
/// checks and tolerance (2e-2) of the CPU parity tests. Device-only: on ILGPU's CPU accelerator one case takes minutes.
/// </summary>
public class Sd3ParityDeviceChecks(ITestOutputHelper output)
{
    [Fact]
    public void TransformerMatchesDiffusers()
    {
        using var backend = CudaBackend.Create();
        TransformerParity.Check(backend, "transformer-bf16", output);
    }

    [Fact]
    public void VaeMatchesDiffusers()
    {
        using var backend = CudaBackend.Create();
        VaeParity.Check(backend, "vae-bf16", output);
    }

    [Theory, InlineData("clip-l-bf16"), InlineData("clip-g-bf16")]
    public void ClipMatchesTransformers(string caseName)
    {
        using var backend = CudaBackend.Create();
        ClipParity.Check(backend, caseName, output);
    }

    [Fact]
    public void T5MatchesTransformers()
    {
        using var backend = CudaBackend.Create();
        T5Parity.Check(backend, "t5-bf16", output);
    }

    [Fact]
    public void PipelineMatchesDiffusers()
    {
        using var backend = CudaBackend.Create();
        PipelineParity.Check(backend, "pipeline-bf16", output);
    }
}
