using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Encoders.Clip;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// CLIPTextModelWithProjection (CLIP-L: quick_gelu, padded with 49407; CLIP-G: gelu, padded with 0): the recorded ids through
/// Qzo's encoder; text_embeds, last_hidden_state, every entry of hidden_states (the penultimate, hidden_states.2, is what SD3
/// reads) and each layer's output against transformers'.
/// </summary>
static class ClipParity
{
    public static void Check(IBackend backend, string caseName, ITestOutputHelper output)
    {
        using var c = ParityCase.Open(caseName, output);
        using var model = ClipTextLoader.Load(c.Model, backend);
        Assert.Empty(model.UnusedTensors);
        var shape = c.Shape("input_ids");
        int layers = model.Config.Layers;
        using var result = model.Forward(c.Ints("input_ids"), (int)shape[0], (int)shape[1], Enumerable.Range(0, layers + 1));
        c.Check("text_embeds", HostFloats.Download(backend, result.TextEmbeds!));
        c.Check("last_hidden_state", HostFloats.Download(backend, result.LastHiddenState));
        for (int i = 0; i <= layers; i++)
        {
            var state = HostFloats.Download(backend, result.HiddenStates[i]);
            c.Check($"hidden_states.{i}", state);
            if (i > 0) c.Check($"layer.{i - 1}", state);
        }
        c.RequireEveryOutputChecked("input_ids");
    }
}

public class ClipParityTests(ITestOutputHelper output)
{
    [Theory, InlineData("clip-l-fp32"), InlineData("clip-l-bf16"), InlineData("clip-g-fp32"), InlineData("clip-g-bf16")]
    public void MatchesTransformers(string caseName)
    {
        using var backend = new CpuBackend();
        ClipParity.Check(backend, caseName, output);
    }
}
