using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Sd3;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// SD3Transformer2DModel: the recorded latents, text, pooled text and timesteps through Qzo's transformer, loaded from the case's
/// model/ folder; the velocity ("sample") and every recorded intermediate against diffusers'.
/// </summary>
static class TransformerParity
{
    static readonly string[] Inputs = ["hidden_states", "encoder_hidden_states", "pooled_projections", "timestep"];

    public static void Check(IBackend backend, string caseName, ITestOutputHelper output)
    {
        using var c = ParityCase.Open(caseName, output);
        var ours = Run(c, backend);
        foreach (var name in c.Names.Except(Inputs))
        {
            Assert.True(ours.ContainsKey(name), $"{caseName}: Qzo's transformer has no intermediate '{name}'");
            c.Check(name, ours[name]);
        }
        c.RequireEveryOutputChecked(Inputs);
    }

    /// <summary>The case's recorded inputs through Qzo's transformer on <paramref name="backend"/>: every probed output.</summary>
    public static Dictionary<string, float[]> Run(ParityCase c, IBackend backend)
    {
        using var model = Sd3Transformer.Load(c.Model, backend);
        var latents = c.Shape("hidden_states");
        var text = c.Shape("encoder_hidden_states");
        var inputs = new Sd3TestRuns.Inputs(c.Floats("hidden_states"), c.Floats("encoder_hidden_states"), c.Floats("pooled_projections"),
                                             c.Floats("timestep"), (int)latents[0], (int)latents[2], (int)latents[3], (int)text[1]);
        return Sd3TestRuns.Run(model, inputs);
    }
}

public class TransformerParityTests(ITestOutputHelper output)
{
    [Theory, InlineData("transformer-fp32"), InlineData("transformer-bf16")]
    public void MatchesDiffusers(string caseName)
    {
        using var backend = new CpuBackend();
        TransformerParity.Check(backend, caseName, output);
    }
}
