using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Training;
using Qzo.Numerics;

namespace Qzo.Tests.Diffusion.Training;

/// <summary>
/// The trainable set of an NF4 SD3 transformer: every 4-bit linear's absmax, in diffusers' named_parameters() order, with
/// one fp32 value per 64-weight block, perturbed in the forward as master + ε·z(seed, t, i).
/// </summary>
public sealed class Sd3TrainableScalesTests(TinyNf4Sd3 tiny) : IClassFixture<TinyNf4Sd3>
{
    /// <summary>The tiny preset's linears as SD3Transformer2DModel registers its modules (three blocks, the first dual, the last
    /// context-pre-only), spelled out from diffusers' __init__ methods.</summary>
    static List<string> NamedParametersOrder()
    {
        var names = new List<string>
        {
            "time_text_embed.timestep_embedder.linear_1", "time_text_embed.timestep_embedder.linear_2",
            "time_text_embed.text_embedder.linear_1", "time_text_embed.text_embedder.linear_2", "context_embedder",
        };
        for (int i = 0; i < 3; i++)
        {
            string b = $"transformer_blocks.{i}.";
            names.AddRange([b + "norm1.linear", b + "norm1_context.linear", b + "attn.to_q", b + "attn.to_k", b + "attn.to_v",
                            b + "attn.add_k_proj", b + "attn.add_v_proj", b + "attn.add_q_proj", b + "attn.to_out.0"]);
            if (i < 2) names.Add(b + "attn.to_add_out");
            if (i == 0) names.AddRange([b + "attn2.to_q", b + "attn2.to_k", b + "attn2.to_v", b + "attn2.to_out.0"]);
            names.AddRange([b + "ff.net.0.proj", b + "ff.net.2"]);
            if (i < 2) names.AddRange([b + "ff_context.net.0.proj", b + "ff_context.net.2"]);
        }
        names.AddRange(["norm_out.linear", "proj_out"]);
        return names;
    }

    [Fact]
    public void EveryFourBitLinearsAbsmaxTrainsInNamedParametersOrderWithOneValuePerBlock()
    {
        using var backend = new CpuBackend();
        using var transformer = Sd3Transformer.Load(Path.Combine(tiny.Pipeline, "transformer"), backend);
        var scales = Sd3TrainableScales.Mark(transformer);
        Assert.Equal(NamedParametersOrder().Select(n => n + ".weight.absmax"), scales.Select(s => s.Name));
        Assert.Equal(Enumerable.Range(0, scales.Count), scales.Select(s => s.TrainableIndex!.Value));
        var linears = transformer.AllLinears.ToDictionary(l => l.Name);
        foreach (var s in scales)
        {
            var linear = linears[s.Name[..^".weight.absmax".Length]];
            Assert.Equal((long)linear.InFeatures * linear.OutFeatures / 64, s.Length);
            Assert.True(s.IsQuantizationScale);
            Assert.Equal(DType.F32, s.Values.DType);
        }
        var set = Sd3TrainableScales.Set(transformer, scales);
        Assert.All(set.Tensors, t => Assert.True(t.Floored));
    }

    [Fact]
    public void APerturbedForwardEqualsTheForwardOfMastersMovedByEpsilonZ()
    {
        using var backend = new CpuBackend();
        using var transformer = Sd3Transformer.Load(Path.Combine(tiny.Pipeline, "transformer"), backend);
        var scales = Sd3TrainableScales.Mark(transformer);
        var set = Sd3TrainableScales.Set(transformer, scales);
        var inputs = Sd3TestRuns.RandomInputs(transformer.Config, 2, 8, 8, 5, [300f, 900f], seed: 4);
        const ulong seed = 0xABCDEF;
        const float eps = 1e-2f;

        var perturbed = Run(transformer, inputs, new Perturbation(seed, eps));
        var plain = Run(transformer, inputs, Perturbation.None);
        var masters = set.Snapshot();
        set.Restore(masters.Select((values, t) => values.Select((v, i) => GaussianDirection.Step(v, eps, GaussianDirection.Z(seed, t, i)))
                                                         .ToArray()).ToArray());
        var moved = Run(transformer, inputs, Perturbation.None);

        double difference = perturbed.Zip(plain).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(difference > 1e-4, $"the perturbation changed the output by only {difference}");
        for (int i = 0; i < moved.Length; i++) Assert.Equal(moved[i], perturbed[i], 1e-5 * (1 + Math.Abs(moved[i])));
    }

    [Fact]
    public void ATransformerWithoutFourBitLinearsAndMismatchedPairsAreRefusedInOneLine()
    {
        using var backend = new CpuBackend();
        var dense = Assert.Throws<QzoException>(() => Sd3FineTuning.Open(tiny.DensePipeline, new Sd3FinetuneSettings(), backend));
        Assert.Contains("no bitsandbytes 4-bit linear to train", dense.Message);

        using var run = Sd3FineTuning.Open(tiny.Pipeline, new Sd3FinetuneSettings(), backend);
        var good = tiny.Train[0];
        var narrow = good with { Source = "narrow.png", JointDim = 64, PromptEmbeds = new float[good.PromptTokens * 64] };
        var error = Assert.Throws<QzoException>(() => run.Objective.Loss([good, narrow], new Perturbation(1, 1e-3f)));
        Assert.Contains("'narrow.png'", error.Message);
        Assert.Contains("joint_attention_dim 96", error.Message);
        var small = good with { Source = "small.png", LatentHeight = 4, LatentWidth = 4, LatentMean = new float[16 * 16],
                                LatentStd = new float[16 * 16] };
        error = Assert.Throws<QzoException>(() => run.Objective.Loss([good, small], new Perturbation(1, 1e-3f)));
        Assert.Contains("one run needs one resolution", error.Message);
    }

    static float[] Run(Sd3Transformer model, Sd3TestRuns.Inputs x, Perturbation p)
    {
        var b = model.Backend;
        using var latents = HostFloats.Upload(b, x.Latents, MemoryCategory.Activations);
        using var context = HostFloats.Upload(b, x.Context, MemoryCategory.Activations);
        using var pooled = HostFloats.Upload(b, x.Pooled, MemoryCategory.Activations);
        using var velocity = b.Allocate(b.ComputeType, x.Latents.Length, MemoryCategory.Activations);
        model.Forward(model.Context(p), latents, context, pooled, x.Timesteps, velocity, x.Batch, x.Height, x.Width, x.TextTokens);
        return HostFloats.Download(b, velocity);
    }
}
