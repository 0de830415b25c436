using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Encoders.T5;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// T5EncoderModel: the recorded ids (no attention mask, as SD3's pipeline) through Qzo's encoder; last_hidden_state, each
/// block's output and block 0's relative position bias against transformers'.
/// </summary>
static class T5Parity
{
    public static void Check(IBackend backend, string caseName, ITestOutputHelper output)
    {
        using var c = ParityCase.Open(caseName, output);
        using var model = T5EncoderLoader.Load(c.Model, backend);
        Assert.Empty(model.UnusedTensors);
        var shape = c.Shape("input_ids");
        int seq = (int)shape[1];
        int layers = model.Config.Layers;
        using var result = model.Forward(c.Ints("input_ids"), (int)shape[0], seq, Enumerable.Range(0, layers));
        c.Check("last_hidden_state", HostFloats.Download(backend, result.LastHiddenState));
        for (int i = 0; i < layers; i++) c.Check($"block.{i}", HostFloats.Download(backend, result.BlockOutputs[i]));
        c.Check("position_bias", model.PositionBias(seq));
        c.RequireEveryOutputChecked("input_ids");
    }
}

public class T5ParityTests(ITestOutputHelper output)
{
    [Theory, InlineData("t5-fp32"), InlineData("t5-bf16")]
    public void MatchesTransformers(string caseName)
    {
        using var backend = new CpuBackend();
        T5Parity.Check(backend, caseName, output);
    }
}
