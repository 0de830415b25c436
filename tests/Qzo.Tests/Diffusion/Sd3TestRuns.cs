using Qzo.Compute;
using Qzo.Diffusion.Sd3;
using Qzo.Numerics;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion;

/// <summary>Runs an <see cref="Sd3Transformer"/> on host inputs and collects its named intermediates, for the SD3 tests.</summary>
static class Sd3TestRuns
{
    /// <summary>The transformer of the parity fixtures (tests/fixtures/sd3/transformer-*), with optional variations.</summary>
    public static Sd3TransformerConfig FixtureConfig(IReadOnlyList<int>? dual = null, bool qkNorm = true, int outChannels = 16) => new()
    {
        SampleSize = 8, PatchSize = 2, InChannels = 16, OutChannels = outChannels, Layers = 3, HeadDim = 8, Heads = 2,
        JointAttentionDim = 32, CaptionProjectionDim = 16, PooledProjectionDim = 24, PosEmbedMaxSize = 12,
        QkRmsNorm = qkNorm, DualAttentionLayers = dual ?? [0],
    };

    public sealed record Inputs(float[] Latents, float[] Context, float[] Pooled, float[] Timesteps, int Batch, int Height, int Width,
                                int TextTokens);

    public static Inputs RandomInputs(Sd3TransformerConfig c, int batch, int height, int width, int textTokens, float[] timesteps, int seed)
    {
        var random = new Random(seed);
        float[] Normal(int count) => Enumerable.Range(0, count).Select(_ => (float)random.NextGaussian()).ToArray();
        return new(Normal(batch * c.InChannels * height * width), Normal(batch * textTokens * c.JointAttentionDim),
                   Normal(batch * c.PooledProjectionDim), timesteps, batch, height, width, textTokens);
    }

    static double NextGaussian(this Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Every probed intermediate, downloaded as fp32, plus "sample" (the velocity).</summary>
    public static Dictionary<string, float[]> Run(Sd3Transformer model, Inputs x)
    {
        var b = model.Backend;
        var c = model.Config;
        DeviceTensor Upload(float[] values)
        {
            var t = b.Allocate(b.ComputeType, values.Length, MemoryCategory.Activations);
            if (b.ComputeType == DType.F32) b.Upload<float>(t, values);
            else b.Upload<byte>(t, DTypes.FromSingle(b.ComputeType, values));
            return t;
        }
        float[] Download(DeviceTensor t, long count)
        {
            var all = new float[t.Length];
            if (t.DType == DType.F32) b.Download<float>(t, all);
            else { var raw = new byte[t.ByteLength]; b.Download<byte>(t, raw); DTypes.ToSingle(t.DType, raw, all); }
            return all.AsSpan(0, (int)count).ToArray();
        }
        var outputs = new Dictionary<string, float[]>();
        using var latents = Upload(x.Latents);
        using var context = Upload(x.Context);
        using var pooled = Upload(x.Pooled);
        using var velocity = b.Allocate(b.ComputeType, (long)x.Batch * c.OutChannels * x.Height * x.Width, MemoryCategory.Activations);
        model.Forward(model.Context(Perturbation.None), latents, context, pooled, x.Timesteps, velocity, x.Batch, x.Height, x.Width,
                      x.TextTokens, (name, values, count) => outputs.Add(name, Download(values, count)));
        outputs.Add("sample", Download(velocity, velocity.Length));
        return outputs;
    }

    /// <summary>max |ours − reference| over one intermediate, against <paramref name="relative"/> · max |reference|.</summary>
    public static void Compare(string name, float[] ours, ReadOnlySpan<float> reference, double relative, ITestOutputHelper output)
    {
        Assert.True(ours.Length == reference.Length, $"{name}: {ours.Length} values, the reference has {reference.Length}");
        double scale = 0, error = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(reference[i]));
            error = Math.Max(error, Math.Abs(ours[i] - (double)reference[i]));
        }
        output.WriteLine($"{name}: max |error| {error:E2}, max |reference| {scale:F3}, relative {error / Math.Max(scale, 1e-30):E2}");
        Assert.True(ours.All(float.IsFinite), $"{name}: non-finite values");
        Assert.True(error <= relative * scale, $"{name}: max |error| {error:E3} exceeds {relative:E0} of max |reference| {scale:E3}");
    }
}
