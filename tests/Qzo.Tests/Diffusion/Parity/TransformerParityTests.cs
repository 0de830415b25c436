using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Sd3;
using Qzo.IO;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// SD3Transformer2DModel against diffusers v0.39.0 (tests/fixtures/sd3/transformer-*): 3 blocks (block 0 with the dual
/// attention of SD3.5, RMSNorm on q and k, the last block context-pre-only), a 5×5 patch grid cropped from the 12×12
/// positional table, timesteps 937.5 and 12.3. Every intermediate diffusers' hooks recorded (pos_embed, temb, context,
/// each block's image and text streams, norm_out) and the output sample are compared.
/// </summary>
public class TransformerParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("transformer-fp32")]
    [InlineData("transformer-bf16")]
    public void EveryIntermediateMatchesDiffusers(string name)
    {
        using var backend = new CpuBackend();
        Check(name, backend, output);
    }

    /// <summary>diffusers computed the stored pos_embed buffer itself: ours must give the same table (bf16: its rounding).</summary>
    [Theory]
    [InlineData("transformer-fp32", 1e-6)]
    [InlineData("transformer-bf16", 1.0 / 256)]
    public void TheStoredPositionalTableIsTheOneQzoComputes(string name, double relative)
    {
        using var c = Sd3ParityCase.Open(name);
        var config = Sd3TransformerConfig.Load(Path.Combine(c.Model, "config.json"));
        using var tensors = CheckpointTensors.Open(c.Model);
        var stored = tensors.ReadFloat32("pos_embed.pos_embed");
        var computed = Sd3PositionTable.Compute(config.InnerDim, config.PosEmbedMaxSize, config.PositionBaseSize);
        Assert.Equal(computed.Length, stored.Length);
        for (int i = 0; i < stored.Length; i++)
            Assert.True(Math.Abs(stored[i] - computed[i]) <= relative * Math.Abs(computed[i]) + 1e-7,
                        $"pos_embed.pos_embed[{i}]: stored {stored[i]}, computed {computed[i]}");
    }

    public static void Check(string name, IBackend backend, ITestOutputHelper output)
    {
        using var c = Sd3ParityCase.Open(name);
        using var model = Sd3Transformer.Load(c.Model, backend);
        var latents = c.ImageShapeOf("hidden_states");
        var inputs = new Sd3TestRuns.Inputs(c.Floats("hidden_states"), c.Floats("encoder_hidden_states"), c.Floats("pooled_projections"),
                                            c.Floats("timestep"), latents.Batch, latents.Height, latents.Width,
                                            (int)c.Shape("encoder_hidden_states")[1]);
        var ours = Sd3TestRuns.Run(model, inputs);
        var names = new List<string> { "pos_embed", "temb", "context" };
        for (int i = 0; i < model.Config.Layers; i++)
        {
            names.Add($"block.{i}.hidden_states");
            if (!model.Config.IsContextPreOnly(i)) names.Add($"block.{i}.encoder_hidden_states");
        }
        names.AddRange(["norm_out", "sample"]);
        Assert.Equal(names.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (string intermediate in names) c.Check(intermediate, ours[intermediate], output);
    }
}
