using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Vae;
using Qzo.IO;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Vae;

/// <summary>
/// The VAE on the CPU backend against <see cref="ReferenceVae"/>, naive double-precision loops over the same synthesized
/// weights: single blocks, the downsampler's one-sided padding, whole encodes and decodes, and the latent arithmetic.
/// </summary>
public class VaeForwardTests(ITestOutputHelper output) : IDisposable
{
    const double Tolerance = 1e-4;
    readonly TempFolder _folder = new();
    readonly CpuBackend _cpu = new();

    public void Dispose() { _cpu.Dispose(); _folder.Dispose(); }

    (AutoencoderKL Vae, ReferenceVae Reference, SafetensorsFile Weights) Synthesize(VaeConfig config, ulong seed = 7)
    {
        VaeSynthesis.Write(_folder.Path, config, seed);
        var weights = SafetensorsFile.Open(_folder[CheckpointTensors.DiffusersFileName]);
        var reference = new ReferenceVae(weights, config.BlockOutChannels, config.LayersPerBlock, config.NormGroups,
                                         config.MidBlockAttention);
        return (AutoencoderKL.Load(_folder.Path, _cpu), reference, weights);
    }

    float[] Run(RefImage x, Func<DeviceTensor, ImageShape, DeviceTensor> block)
    {
        using var input = VaeTestSupport.Upload(_cpu, x);
        using var y = block(input, VaeTestSupport.ShapeOf(x));
        return VaeTestSupport.Download(_cpu, y, y.Length);
    }

    [Theory]
    [InlineData(0, 32)]  // encoder.down_blocks.0.resnets.0: 32 → 32, identity shortcut
    [InlineData(1, 32)]  // encoder.down_blocks.1.resnets.0: 32 → 64 through conv_shortcut
    public void ResnetBlockMatchesNaiveLoops(int level, int cIn)
    {
        var (vae, reference, weights) = Synthesize(VaeSynthesis.Tiny);
        using (vae) using (weights)
        {
            var x = VaeTestSupport.RandomImage(2, cIn, 6, 5, seed: 11, scale: 2);
            var block = vae.Encoder.DownBlocks[level].Resnets[0];
            var actual = Run(x, (t, s) => block.Forward(vae.Context(), t, s));
            VaeTestSupport.AssertClose(reference.Resnet($"encoder.down_blocks.{level}.resnets.0", x).V, actual, Tolerance, "resnet");
            Assert.Equal(level == 1, block.ConvShortcut is not null);
        }
    }

    [Fact]
    public void MidAttentionMatchesNaiveLoops()
    {
        var (vae, reference, weights) = Synthesize(VaeSynthesis.Tiny);
        using (vae) using (weights)
        {
            var x = VaeTestSupport.RandomImage(2, 64, 5, 3, seed: 12, scale: 2);
            var attention = vae.Decoder.MidBlock.Attention!;
            var actual = Run(x, (t, s) => attention.Forward(vae.Context(), t, s));
            var expected = reference.Attention("decoder.mid_block.attentions.0", x).V;
            VaeTestSupport.AssertClose(expected, actual, Tolerance, "mid attention");
            // The attention's own contribution is not negligible: without it the residual alone would be far off.
            Assert.True(VaeTestSupport.RelativeError(expected, x.V.Select(v => (float)v).ToArray()) > 0.05);
        }
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(7, 5)]  // odd sizes: the zero row and column decide the last output
    public void DownsamplerPadsOnlyRightAndBottom(int height, int width)
    {
        var (vae, _, weights) = Synthesize(VaeSynthesis.Tiny);
        using (vae) using (weights)
        {
            var x = VaeTestSupport.RandomImage(1, 32, height, width, seed: 13);
            var conv = vae.Encoder.DownBlocks[0].Downsampler!;
            var actual = Run(x, (t, s) => conv.Forward(vae.Context(), t, s));
            var w = weights.ReadFloat32("encoder.down_blocks.0.downsamplers.0.conv.weight").Select(v => (double)v).ToArray();
            var b = weights.ReadFloat32("encoder.down_blocks.0.downsamplers.0.conv.bias").Select(v => (double)v).ToArray();
            var oneSided = ReferenceVae.Conv(x, w, b, 32, 3, 2, top: 0, bottom: 1, left: 0, right: 1);
            Assert.Equal(((height + 1 - 3) / 2 + 1, (width + 1 - 3) / 2 + 1), (oneSided.H, oneSided.W));
            Assert.Equal(new ImageShape(1, 32, oneSided.H, oneSided.W), conv.OutputShape(VaeTestSupport.ShapeOf(x)));
            VaeTestSupport.AssertClose(oneSided.V, actual, Tolerance, "downsampler");
            var symmetric = ReferenceVae.Conv(x, w, b, 32, 3, 2, 1, 1, 1, 1);
            if (symmetric.V.Length == actual.Length) Assert.True(VaeTestSupport.RelativeError(symmetric.V, actual) > 0.05);
        }
    }

    public static TheoryData<string> Configs => ["tiny", "three-levels-quant-convs-no-attention"];

    static VaeConfig ConfigNamed(string name) => name == "tiny"
        ? VaeSynthesis.Tiny
        : VaeSynthesis.Tiny with
        {
            BlockOutChannels = [32, 64, 32], LayersPerBlock = 2, LatentChannels = 4, MidBlockAttention = false,
            UseQuantConv = true, UsePostQuantConv = true, ScalingFactor = 0.18215, ShiftFactor = null,
        };

    [Theory, MemberData(nameof(Configs))]
    public void EncodeAndDecodeMatchNaiveLoops(string name)
    {
        var config = ConfigNamed(name);
        var (vae, reference, weights) = Synthesize(config);
        using (vae) using (weights)
        {
            var image = VaeTestSupport.RandomImage(2, 3, 12, 10, seed: 14);
            var (moments, encoderMid) = reference.Encode(image);
            var observed = new Dictionary<string, float[]>();
            void Observe(string key, DeviceTensor t, ImageShape s) => observed[key] = VaeTestSupport.Download(_cpu, t, s.Count);

            VaePosterior posterior;
            using (var input = VaeTestSupport.Upload(_cpu, image))
                posterior = vae.Encode(vae.Context(), input, VaeTestSupport.ShapeOf(image), Observe);
            int latent = config.LatentChannels, f = config.DownscaleFactor;
            Assert.Equal(new ImageShape(2, latent, 12 / f, 10 / f), posterior.Shape);
            VaeTestSupport.AssertClose(encoderMid.V, observed["encoder.mid_block"], Tolerance, "encoder.mid_block");
            VaeTestSupport.AssertClose(VaeTestSupport.Channels(moments, 0, latent), posterior.Mean, Tolerance, "mean");
            var logVar = VaeTestSupport.Channels(moments, latent, latent).Select(v => Math.Clamp(v, -30, 20)).ToArray();
            VaeTestSupport.AssertClose(logVar, posterior.LogVar, Tolerance, "logvar");

            var latents = VaeTestSupport.RandomImage(2, latent, 3, 4, seed: 15);
            var (decoded, decoderMid) = reference.Decode(latents);
            var actual = Run(latents, (t, s) => vae.Decode(vae.Context(), t, s, Observe));
            Assert.Equal(new ImageShape(2, 3, 3 * f, 4 * f), vae.DecodedShape(VaeTestSupport.ShapeOf(latents)));
            Assert.Equal((decoded.B, decoded.C, decoded.H, decoded.W), (2, 3, 3 * f, 4 * f));
            VaeTestSupport.AssertClose(decoderMid.V, observed["decoder.mid_block"], Tolerance, "decoder.mid_block");
            VaeTestSupport.AssertClose(decoded.V, actual, Tolerance, "decoded");
            output.WriteLine($"{name}: |decoded| up to {decoded.V.Max(Math.Abs):F3}, mean up to {posterior.Mean.Max(Math.Abs):F3}");
        }
    }

    [Fact]
    public void TinyVaeShapesRoundTrip()
    {
        var (vae, _, weights) = Synthesize(VaeSynthesis.Tiny);
        using (vae) using (weights)
        {
            var shape = new ImageShape(1, 3, 32, 32);
            using var image = VaeTestSupport.Upload(_cpu, VaeTestSupport.RandomImage(1, 3, 32, 32, seed: 16));
            var posterior = vae.Encode(vae.Context(), image, shape);
            Assert.Equal(new ImageShape(1, 16, 16, 16), posterior.Shape);
            using var latents = vae.ModeLatents(posterior);
            using var decoded = vae.DecodeLatents(vae.Context(), latents, posterior.Shape);
            Assert.Equal(shape.Count, decoded.Length);
            Assert.Equal(shape, vae.DecodedShape(posterior.Shape));
            var values = VaeTestSupport.Download(_cpu, decoded, decoded.Length);
            Assert.All(values, v => Assert.True(float.IsFinite(v)));
            Assert.Contains("must have 3 channels",
                Assert.Throws<QzoException>(() => vae.Encode(vae.Context(), image, shape with { Channels = 4 })).Message);
        }
    }

    [Fact]
    public void ActivationsAreFreedBlockByBlock()
    {
        var (vae, _, weights) = Synthesize(VaeSynthesis.Tiny);
        using (vae) using (weights)
        {
            var memory = _cpu.Memory;
            using var latents = VaeTestSupport.Upload(_cpu, VaeTestSupport.RandomImage(1, 16, 16, 16, seed: 18));
            long before = memory.Current(MemoryCategory.Activations);
            memory.ResetPeaks();
            using (var image = vae.Decode(vae.Context(), latents, new ImageShape(1, 16, 16, 16)))
                Assert.Equal(before + image.ByteLength, memory.Current(MemoryCategory.Activations));
            // The largest activation is 64 channels at 32² (the last upsampler's input to its conv); a decoder that kept
            // every block's output alive would hold many times that.
            long largest = 64L * 32 * 32 * sizeof(float);
            long peak = memory.Peak(MemoryCategory.Activations) - before;
            output.WriteLine($"decode: peak activations {peak / 1024} KiB = {(double)peak / largest:F2} × the largest tensor");
            Assert.True(peak <= 3 * largest, $"peak activations {peak} B > 3 × {largest} B");

            using var input = VaeTestSupport.Upload(_cpu, VaeTestSupport.RandomImage(1, 3, 32, 32, seed: 19));
            before = memory.Current(MemoryCategory.Activations);
            vae.Encode(vae.Context(), input, new ImageShape(1, 3, 32, 32));
            Assert.Equal(before, memory.Current(MemoryCategory.Activations));
        }
    }

    [Fact]
    public void LatentsAreShiftedAndScaledSamplesOfThePosterior()
    {
        var (vae, _, weights) = Synthesize(VaeSynthesis.Tiny);
        using (vae) using (weights)
        {
            using var image = VaeTestSupport.Upload(_cpu, VaeTestSupport.RandomImage(2, 3, 8, 8, seed: 17));
            var posterior = vae.Encode(vae.Context(), image, new ImageShape(2, 3, 8, 8));
            long n = posterior.Shape.Count;
            float scale = 1.5305f, shift = 0.0609f;

            using var sampled = vae.SampleLatents(posterior, seed: 99, stream: 3);
            using var noise = _cpu.Allocate(Qzo.Numerics.DType.F32, n, MemoryCategory.Workspace);
            _cpu.FillRandom(noise, RandomFill.Gaussian, 99, 3, 0, 1, n);
            var epsilon = VaeTestSupport.Download(_cpu, noise, n);
            var expected = Enumerable.Range(0, (int)n)
                .Select(i => ((double)posterior.Mean[i] + Math.Exp(0.5 * posterior.LogVar[i]) * epsilon[i] - shift) * scale).ToArray();
            VaeTestSupport.AssertClose(expected, VaeTestSupport.Download(_cpu, sampled, n), 1e-6, "sampled latents");

            using var mode = vae.ModeLatents(posterior);
            var modeExpected = posterior.Mean.Select(m => ((double)m - shift) * scale).ToArray();
            VaeTestSupport.AssertClose(modeExpected, VaeTestSupport.Download(_cpu, mode, n), 1e-6, "mode latents");

            // DecodeLatents undoes the scaling: decoding the mode latents gives vae.decode(mean).
            using var fromLatents = vae.DecodeLatents(vae.Context(), mode, posterior.Shape);
            using var mean = HostUpload(posterior.Mean);
            using var fromMean = vae.Decode(vae.Context(), mean, posterior.Shape);
            var a = VaeTestSupport.Download(_cpu, fromLatents, fromLatents.Length);
            var b = VaeTestSupport.Download(_cpu, fromMean, fromMean.Length);
            VaeTestSupport.AssertClose(b.Select(v => (double)v).ToArray(), a, 1e-5, "DecodeLatents");
        }
    }

    DeviceTensor HostUpload(float[] values)
    {
        var t = _cpu.Allocate(_cpu.ComputeType, values.Length, MemoryCategory.Activations);
        _cpu.Upload<float>(t, values);
        return t;
    }

    [Fact]
    public void PosteriorSplitsChannelsPerImageAndClampsTheLogVariance()
    {
        // moments [2, 4, 1, 1]: image 0 = (m0, m1, lv0, lv1), image 1 likewise.
        var posterior = VaePosterior.FromMoments([1, 2, -40, 3, 5, 6, 25, -1], new ImageShape(2, 4, 1, 1));
        Assert.Equal(new ImageShape(2, 2, 1, 1), posterior.Shape);
        Assert.Equal([1f, 2, 5, 6], posterior.Mean);
        Assert.Equal([-30f, 3, 20, -1], posterior.LogVar);
        Assert.Equal(MathF.Exp(1.5f), posterior.Std(1));
    }
}
