using System.Diagnostics;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.Diffusion.Vae;
using Qzo.Numerics;
using Qzo.Tests.Diffusion.Vae;
using Xunit.Abstractions;

namespace Qzo.DeviceTests;

/// <summary>
/// SD3's AutoencoderKL at its real size (block_out_channels 128, 256, 512, 512; two resnets per level; a 512-wide mid
/// attention), random bf16 weights: the CUDA backend against the CPU on a small image, then a 1024² encode and decode
/// with their time and activation peak (tests/Qzo.Tests/Diffusion/Vae/VaeForwardTests measures the same peak on the CPU).
/// </summary>
public class VaeDeviceChecks(ITestOutputHelper output)
{
    static readonly VaeConfig Sd3 = VaeSynthesis.Tiny with { BlockOutChannels = [128, 256, 512, 512], LayersPerBlock = 2 };

    [Fact]
    public void Sd3SizedVaeOnTheGpuMatchesTheCpu()
    {
        using var folder = new ScratchFolder();
        VaeSynthesis.Write(folder.Path, Sd3, seed: 31, DType.BF16);
        using var cpuBackend = new CpuBackend();
        using var gpuBackend = CudaBackend.Create();
        using var cpu = AutoencoderKL.Load(folder.Path, cpuBackend);
        using var gpu = AutoencoderKL.Load(folder.Path, gpuBackend);
        var image = VaeTestSupport.RandomImage(1, 3, 64, 48, seed: 32);
        var shape = VaeTestSupport.ShapeOf(image);
        VaePosterior expected, actual;
        using (var x = VaeTestSupport.Upload(cpuBackend, image)) expected = cpu.Encode(cpu.Context(), x, shape);
        using (var x = VaeTestSupport.Upload(gpuBackend, image)) actual = gpu.Encode(gpu.Context(), x, shape);
        Compare(expected.Mean, actual.Mean, "mean");
        Compare(expected.LogVar, actual.LogVar, "logvar");
        using var zc = cpu.ModeLatents(expected);
        using var zg = gpu.ModeLatents(expected);
        using var dc = cpu.DecodeLatents(cpu.Context(), zc, expected.Shape);
        using var dg = gpu.DecodeLatents(gpu.Context(), zg, expected.Shape);
        Compare(VaeTestSupport.Download(cpuBackend, dc, dc.Length), VaeTestSupport.Download(gpuBackend, dg, dg.Length), "decoded");
    }

    void Compare(float[] expected, float[] actual, string what)
    {
        double error = VaeTestSupport.RelativeError(expected.Select(v => (double)v).ToArray(), actual);
        output.WriteLine($"{what}: GPU (bf16) vs CPU (fp32) relative error {error:E2}");
        Assert.True(error <= 3e-2, $"{what}: relative error {error:E2}");
    }

    [Fact]
    public void Sd3SizedVaeEncodesAndDecodes1024SquareBlockByBlock()
    {
        using var folder = new ScratchFolder();
        VaeSynthesis.Write(folder.Path, Sd3, seed: 33, DType.BF16);
        using var gpu = CudaBackend.Create();
        using var vae = AutoencoderKL.Load(folder.Path, gpu);
        var imageShape = new ImageShape(1, 3, 1024, 1024);
        var latentShape = new ImageShape(1, 16, 128, 128);
        using var image = gpu.Allocate(gpu.ComputeType, imageShape.Count, MemoryCategory.Activations);
        gpu.FillRandom(image, RandomFill.Gaussian, 1, 0, 0, 0.5f, imageShape.Count);
        var memory = gpu.Memory;
        // The largest activation: 256 channels at 1024² (the last upsampler's output); the resnet that follows holds it,
        // its normalized copy and a 128-channel tensor: 2.5 times that.
        long largest = 256L * 1024 * 1024 * DType.BF16.SizeInBytes();
        for (int run = 0; run < 2; run++)  // the first run compiles the kernels
        {
            long before = memory.Current(MemoryCategory.Activations);
            memory.ResetPeaks();
            var clock = Stopwatch.StartNew();
            var posterior = vae.Encode(vae.Context(), image, imageShape);
            double encodeSeconds = clock.Elapsed.TotalSeconds;
            long encodePeak = memory.Peak(MemoryCategory.Activations) - before;
            using var latents = vae.SampleLatents(posterior, seed: 3, stream: 0);
            memory.ResetPeaks();
            clock.Restart();
            using var decoded = vae.DecodeLatents(vae.Context(), latents, latentShape);
            gpu.Synchronize();
            double decodeSeconds = clock.Elapsed.TotalSeconds;
            long decodePeak = memory.Peak(MemoryCategory.Activations) - before;
            var values = VaeTestSupport.Download(gpu, decoded, decoded.Length);
            output.WriteLine($"run {run}: encode 1024² {encodeSeconds:F2} s (activation peak {encodePeak >> 20} MiB), decode " +
                             $"{decodeSeconds:F2} s (peak {decodePeak >> 20} MiB, {(double)decodePeak / largest:F2} × the largest); " +
                             $"workspace peak {memory.Peak(MemoryCategory.Workspace) >> 20} MiB, total {memory.PeakTotal >> 20} MiB");
            Assert.Equal(latentShape, posterior.Shape);
            Assert.All(values, v => Assert.True(float.IsFinite(v)));
            Assert.True(decodePeak <= 3 * largest, $"decode activation peak {decodePeak >> 20} MiB");
            Assert.True(encodePeak <= 3 * largest, $"encode activation peak {encodePeak >> 20} MiB");
        }
    }
}

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
sealed class ScratchFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("qzo-vae-").FullName;
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
