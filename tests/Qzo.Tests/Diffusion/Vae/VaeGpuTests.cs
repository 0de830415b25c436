using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Vae;

namespace Qzo.Tests.Diffusion.Vae;

/// <summary>
/// The tiny VAE on the GPU backend (bf16 activations; ILGPU's CPU accelerator in CI, CUDA through qzo-device tests)
/// against the CPU backend (fp32) on the same weights. Tolerance: bf16 keeps 8 significant bits; through a dozen
/// convolutions, norms and an attention the outputs stay within a few 1e-2 of their scale.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class VaeGpuTests
{
    const double Tolerance = 3e-2;

    [Fact]
    public void EncodeAndDecodeMatchTheCpuBackend()
    {
        using var folder = new TempFolder();
        var config = VaeSynthesis.Tiny with { UseQuantConv = true, UsePostQuantConv = true };
        VaeSynthesis.Write(folder.Path, config, seed: 21, Qzo.Numerics.DType.BF16);
        using var cpuBackend = new CpuBackend();
        using var gpuBackend = TestBackends.Gpu();
        using var cpu = AutoencoderKL.Load(folder.Path, cpuBackend);
        using var gpu = AutoencoderKL.Load(folder.Path, gpuBackend);
        var image = VaeTestSupport.RandomImage(1, 3, 8, 6, seed: 22);
        var shape = VaeTestSupport.ShapeOf(image);

        VaePosterior expected, actual;
        using (var x = VaeTestSupport.Upload(cpuBackend, image)) expected = cpu.Encode(cpu.Context(), x, shape);
        using (var x = VaeTestSupport.Upload(gpuBackend, image)) actual = gpu.Encode(gpu.Context(), x, shape);
        Assert.Equal(expected.Shape, actual.Shape);
        VaeTestSupport.AssertClose(expected.Mean.Select(v => (double)v).ToArray(), actual.Mean, Tolerance, "mean");
        VaeTestSupport.AssertClose(expected.LogVar.Select(v => (double)v).ToArray(), actual.LogVar, Tolerance, "logvar");

        var reference = Decode(cpuBackend, cpu, expected);
        var decoded = Decode(gpuBackend, gpu, expected);
        VaeTestSupport.AssertClose(reference.Select(v => (double)v).ToArray(), decoded, Tolerance, "decoded");
    }

    static float[] Decode(IBackend backend, AutoencoderKL vae, VaePosterior posterior)
    {
        using var latents = vae.SampleLatents(posterior, seed: 5, stream: 0);
        using var image = vae.DecodeLatents(vae.Context(), latents, posterior.Shape);
        return VaeTestSupport.Download(backend, image, image.Length);
    }
}
