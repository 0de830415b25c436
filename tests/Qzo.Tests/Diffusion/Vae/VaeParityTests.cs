using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Vae;
using Qzo.IO;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Vae;

/// <summary>
/// Our CPU AutoencoderKL against diffusers v0.39.0 on the tiny SD3-like VAE that tests/oracle/sd3_reference.py saved and
/// ran on the device (tests/fixtures/sd3/vae-{fp32,bf16}: model/ as save_pretrained wrote it, io.safetensors with the
/// image, the posterior's mean and clamped log-variance, the given latents, the decoded image and both mid blocks'
/// outputs). The bf16 case ran in bf16 in torch; we run its bf16 weights in fp32.
/// </summary>
public class VaeParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("vae-fp32", 1e-4)]
    [InlineData("vae-bf16", 2e-2)]
    public void EncodeAndDecodeMatchDiffusers(string name, double tolerance)
    {
        string folder = TestPaths.Fixture("sd3", name);
        Assert.True(File.Exists(Path.Combine(folder, "io.safetensors")),
            $"fixture {folder} is missing: tests/oracle/sd3_reference.py records it on the GPU machine (tests/fixtures/sd3/)");
        using var io = SafetensorsFile.Open(Path.Combine(folder, "io.safetensors"));
        using var cpu = new CpuBackend();
        using var vae = AutoencoderKL.Load(Path.Combine(folder, "model"), cpu);
        var observed = new Dictionary<string, float[]>();
        void Observe(string key, DeviceTensor t, ImageShape s) => observed[key] = VaeTestSupport.Download(cpu, t, s.Count);

        var (image, imageShape) = Read(io, "image");
        VaePosterior posterior;
        using (var input = Upload(cpu, image)) posterior = vae.Encode(vae.Context(), input, imageShape, Observe);
        Compare(io, "latent_mean", posterior.Mean, tolerance);
        Compare(io, "latent_logvar", posterior.LogVar, tolerance);
        Compare(io, "encoder.mid_block", observed["encoder.mid_block"], tolerance);
        Assert.Equal(Read(io, "latent_mean").Shape, posterior.Shape);

        var (latents, latentShape) = Read(io, "latents");
        using var z = Upload(cpu, latents);
        using var decoded = vae.Decode(vae.Context(), z, latentShape, Observe);
        Assert.Equal(Read(io, "decoded").Shape, vae.DecodedShape(latentShape));
        Compare(io, "decoded", VaeTestSupport.Download(cpu, decoded, decoded.Length), tolerance);
        Compare(io, "decoder.mid_block", observed["decoder.mid_block"], tolerance);
    }

    static (float[] Values, ImageShape Shape) Read(SafetensorsFile io, string name)
    {
        Assert.True(io.Contains(name), $"{io.Path} has no tensor '{name}'");
        var s = io.Get(name).Shape;
        Assert.Equal(4, s.Length);
        return (io.ReadFloat32(name), new ImageShape((int)s[0], (int)s[1], (int)s[2], (int)s[3]));
    }

    static DeviceTensor Upload(IBackend backend, float[] values)
    {
        var t = backend.Allocate(backend.ComputeType, values.Length, MemoryCategory.Activations);
        backend.Upload<float>(t, values);
        return t;
    }

    void Compare(SafetensorsFile io, string name, float[] actual, double tolerance)
    {
        var expected = Read(io, name).Values.Select(v => (double)v).ToArray();
        double error = VaeTestSupport.RelativeError(expected, actual);
        output.WriteLine($"{name}: relative error {error:E2} (max |ref| {expected.Max(Math.Abs):F3})");
        Assert.True(error <= tolerance, $"{name}: relative error {error:E2} > {tolerance:E0}");
    }
}
