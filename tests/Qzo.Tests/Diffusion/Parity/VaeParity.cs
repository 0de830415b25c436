using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Vae;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// AutoencoderKL: the recorded image through Qzo's encoder (posterior mean and clamped logvar, encoder.mid_block) and the
/// recorded latents through its raw decoder (vae.decode: decoded, decoder.mid_block), against diffusers'.
/// </summary>
static class VaeParity
{
    public static void Check(IBackend backend, string caseName, ITestOutputHelper output)
    {
        using var c = ParityCase.Open(caseName, output);
        using var vae = AutoencoderKL.Load(c.Model, backend);
        var seen = new Dictionary<string, float[]>();
        void Observe(string name, DeviceTensor x, ImageShape shape) => seen[name] = HostFloats.Download(backend, x, shape.Count);

        VaePosterior posterior;
        using (var image = HostFloats.Upload(backend, c.Floats("image"), MemoryCategory.Activations))
            posterior = vae.Encode(vae.Context(), image, ShapeOf(c.Shape("image")), Observe);
        c.Check("latent_mean", posterior.Mean);
        c.Check("latent_logvar", posterior.LogVar);

        var latentShape = ShapeOf(c.Shape("latents"));
        using (var latents = HostFloats.Upload(backend, c.Floats("latents"), MemoryCategory.Activations))
        using (var decoded = vae.Decode(vae.Context(), latents, latentShape, Observe))
            c.Check("decoded", HostFloats.Download(backend, decoded, vae.DecodedShape(latentShape).Count));
        foreach (var name in new[] { "encoder.mid_block", "decoder.mid_block" })
        {
            Assert.True(seen.ContainsKey(name), $"{caseName}: Qzo's VAE showed no '{name}'");
            c.Check(name, seen[name]);
        }
        c.RequireEveryOutputChecked("image", "latents");
    }

    static ImageShape ShapeOf(long[] s) => new((int)s[0], (int)s[1], (int)s[2], (int)s[3]);
}

public class VaeParityTests(ITestOutputHelper output)
{
    [Theory, InlineData("vae-fp32"), InlineData("vae-bf16")]
    public void MatchesDiffusers(string caseName)
    {
        using var backend = new CpuBackend();
        VaeParity.Check(backend, caseName, output);
    }
}
