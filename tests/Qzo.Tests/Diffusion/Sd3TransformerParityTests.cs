using Qzo.Compute.Cpu;
using Qzo.Diffusion.Sd3;
using Qzo.IO;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion;

/// <summary>
/// <see cref="Sd3Transformer"/> against diffusers v0.39.0 itself: tests/fixtures/sd3/transformer-{fp32,bf16}/ hold a seeded
/// random SD3Transformer2DModel as save_pretrained wrote it (model/) and the inputs and recorded outputs of one forward pass
/// (io.safetensors; layout in tests/oracle/sd3_reference.py, which writes them on the GPU machine). The stored positional
/// table is also checked against <see cref="Sd3PositionTable"/>.
/// </summary>
public class Sd3TransformerParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("transformer-fp32", 1e-4)]
    [InlineData("transformer-bf16", 2e-2)]
    public void EveryIntermediateMatchesDiffusers(string name, double tolerance)
    {
        string folder = TestPaths.Fixture("sd3", name);
        Assert.True(Directory.Exists(folder) && File.Exists(Path.Combine(folder, "io.safetensors")),
                    $"{folder}: the diffusers fixture is missing; it is recorded on the GPU machine by tests/oracle/sd3_reference.py " +
                    "and lands in tests/fixtures/sd3 with the device results");
        using var io = SafetensorsFile.Open(Path.Combine(folder, "io.safetensors"));
        using var backend = new CpuBackend();
        using var model = Sd3Transformer.Load(Path.Combine(folder, "model"), backend);
        var c = model.Config;

        var latentShape = io.Get("hidden_states").Shape;
        int batch = (int)latentShape[0], height = (int)latentShape[2], width = (int)latentShape[3];
        int textTokens = (int)io.Get("encoder_hidden_states").Shape[1];
        var inputs = new Sd3TestRuns.Inputs(io.ReadFloat32("hidden_states"), io.ReadFloat32("encoder_hidden_states"),
                                            io.ReadFloat32("pooled_projections"), io.ReadFloat32("timestep"), batch, height, width,
                                            textTokens);
        var ours = Sd3TestRuns.Run(model, inputs);

        var names = new List<string> { "pos_embed", "temb", "context" };
        for (int i = 0; i < c.Layers; i++)
        {
            names.Add($"block.{i}.hidden_states");
            if (!c.IsContextPreOnly(i)) names.Add($"block.{i}.encoder_hidden_states");
        }
        names.AddRange(["norm_out", "sample"]);
        foreach (var intermediate in names)
        {
            Assert.True(io.Contains(intermediate), $"{io.Path}: no recorded '{intermediate}'");
            Sd3TestRuns.Compare(intermediate, ours[intermediate], io.ReadFloat32(intermediate), tolerance, output);
        }

        // diffusers computed the stored table itself (fp32, or rounded to bf16 by the bf16 save).
        using var tensors = CheckpointTensors.Open(Path.Combine(folder, "model"));
        var stored = tensors.ReadFloat32("pos_embed.pos_embed");
        var computed = Sd3PositionTable.Compute(c.InnerDim, c.PosEmbedMaxSize, c.PositionBaseSize);
        double relative = name.EndsWith("bf16", StringComparison.Ordinal) ? 1.0 / 256 : 1e-6;
        for (int i = 0; i < stored.Length; i++)
            Assert.True(Math.Abs(stored[i] - computed[i]) <= relative * Math.Abs(computed[i]) + 1e-7,
                        $"pos_embed.pos_embed[{i}]: stored {stored[i]}, computed {computed[i]}");
    }
}
