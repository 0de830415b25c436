using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Encoders.T5;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// T5EncoderModel (v1.1: gated-gelu, 32 buckets, max distance 128) against transformers 5.17 (tests/fixtures/sd3/t5-*):
/// 150 tokens, so relative positions reach the buckets past max_distance, and one row padded with 0 and attended as SD3
/// does (no mask). Block 0's position bias must be exact (a gather from the stored table, whatever the run's dtype);
/// each block's output and last_hidden_state are held to the case's tolerance.
/// </summary>
public class T5ParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("t5-fp32")]
    [InlineData("t5-bf16")]
    public void EveryRecordedOutputMatchesTransformers(string name)
    {
        using var backend = new CpuBackend();
        Check(name, backend, output);
    }

    public static void Check(string name, IBackend backend, ITestOutputHelper output)
    {
        using var c = Sd3ParityCase.Open(name);
        var shape = c.Shape("input_ids");
        int batch = (int)shape[0], seq = (int)shape[1];
        using var model = T5EncoderLoader.Load(c.Model, backend);
        Assert.Empty(model.UnusedTensors);
        c.Check("position_bias", model.PositionBias(seq), output, tolerance: 0);
        int blocks = model.Layers.Count;
        using var result = model.Forward(c.Ints("input_ids"), batch, seq, blockOutputs: Enumerable.Range(0, blocks));
        for (int i = 0; i < blocks; i++) c.Check($"block.{i}", HostFloats.Download(backend, result.BlockOutputs[i]), output);
        c.Check("last_hidden_state", HostFloats.Download(backend, result.LastHiddenState), output);
    }
}
