using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Vae;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// AutoencoderKL against diffusers v0.39.0 (tests/fixtures/sd3/vae-*): SD3's layout (16 latent channels, no quant
/// convolutions) with block_out_channels (32, 64) and a mid-block attention. Encoding a 32×32 image gives the posterior's
/// mean and clamped log-variance (and the encoder's mid block); decoding the given latents as they are (vae.decode, no
/// scaling) gives the image (and the decoder's mid block).
/// </summary>
public class VaeParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("vae-fp32")]
    [InlineData("vae-bf16")]
    public void EncodeAndDecodeMatchDiffusers(string name)
    {
        using var backend = new CpuBackend();
        Check(name, backend, output);
    }

    public static void Check(string name, IBackend backend, ITestOutputHelper output)
    {
        using var c = Sd3ParityCase.Open(name);
        using var vae = AutoencoderKL.Load(c.Model, backend);
        var observed = new Dictionary<string, float[]>();
        void Observe(string key, DeviceTensor x, ImageShape shape) => observed[key] = HostFloats.Download(backend, x, shape.Count);

        VaePosterior posterior;
        using (var image = Sd3Parity.Upload(backend, c.Floats("image")))
            posterior = vae.Encode(vae.Context(), image, c.ImageShapeOf("image"), Observe);
        Assert.Equal(c.ImageShapeOf("latent_mean"), posterior.Shape);
        c.Check("encoder.mid_block", observed["encoder.mid_block"], output);
        c.Check("latent_mean", posterior.Mean, output);
        c.Check("latent_logvar", posterior.LogVar, output);

        var latentShape = c.ImageShapeOf("latents");
        using var latents = Sd3Parity.Upload(backend, c.Floats("latents"));
        using var decoded = vae.Decode(vae.Context(), latents, latentShape, Observe);
        Assert.Equal(c.ImageShapeOf("decoded"), vae.DecodedShape(latentShape));
        c.Check("decoder.mid_block", observed["decoder.mid_block"], output);
        c.Check("decoded", HostFloats.Download(backend, decoded, vae.DecodedShape(latentShape).Count), output);
    }
}
