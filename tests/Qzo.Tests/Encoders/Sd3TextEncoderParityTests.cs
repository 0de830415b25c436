using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Encoders;
using Qzo.Encoders.Clip;
using Qzo.Encoders.T5;
using Qzo.IO;
using Xunit.Abstractions;

namespace Qzo.Tests.Encoders;

/// <summary>
/// Stable Diffusion 3's text encoders on the CPU against transformers 5.17 (tests/oracle/sd3_reference.py, run on the
/// device): tiny CLIP-L-like (quick_gelu, padding 49407), CLIP-G-like (gelu, padding 0) and T5 v1.1 (gated-gelu, 150
/// tokens so buckets past max_distance show) models that transformers saved itself, read by our loaders from model/,
/// fed io.safetensors' input_ids and compared on every recorded tensor (CLIP: the hidden_states tuple, each layer's
/// output by hook, last_hidden_state, text_embeds; T5: block 0's position bias, exactly, each block's output,
/// last_hidden_state): fp32 runs to 1e-4 of the largest reference value, bf16 runs (transformers computing in bf16, we
/// in fp32 on the same bf16 weights) to 2e-2.
/// The layout of a case is the oracle's (tests/oracle/sd3_reference.py).
/// </summary>
public class Sd3TextEncoderParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("clip-l-fp32")]
    [InlineData("clip-l-bf16")]
    [InlineData("clip-g-fp32")]
    [InlineData("clip-g-bf16")]
    public void ClipTextModelWithProjectionMatchesTransformers(string name)
    {
        string folder = Fixture(name);
        using var io = SafetensorsFile.Open(Path.Combine(folder, "io.safetensors"));
        var shape = io.Get("input_ids").Shape;
        int batch = (int)shape[0], seq = (int)shape[1];
        var ids = io.ReadInt32("input_ids");
        using var backend = new CpuBackend();
        using var model = ClipTextLoader.Load(Path.Combine(folder, "model"), backend);
        Assert.Empty(model.UnusedTensors);
        double tolerance = Tolerance(name);
        using var result = model.Forward(ids, batch, seq, hiddenStates: Enumerable.Range(0, model.Layers.Count + 1));
        for (int i = 0; i <= model.Layers.Count; i++)
            EncoderChecks.Close($"{name} hidden_states.{i}", Read(backend, result.HiddenStates[i]), io.ReadFloat32($"hidden_states.{i}"),
                                tolerance, output);
        // Each layer's output recorded by a hook: hidden_states.{i + 1} must be it (the tuple's layout).
        for (int i = 0; i < model.Layers.Count; i++)
            EncoderChecks.Close($"{name} layer.{i}", Read(backend, result.HiddenStates[i + 1]), io.ReadFloat32($"layer.{i}"), tolerance,
                                output);
        EncoderChecks.Close($"{name} last_hidden_state", Read(backend, result.LastHiddenState), io.ReadFloat32("last_hidden_state"),
                            tolerance, output);
        EncoderChecks.Close($"{name} text_embeds", Read(backend, result.TextEmbeds!), io.ReadFloat32("text_embeds"), tolerance, output);
    }

    [Theory]
    [InlineData("t5-fp32")]
    [InlineData("t5-bf16")]
    public void T5EncoderModelMatchesTransformers(string name)
    {
        string folder = Fixture(name);
        using var io = SafetensorsFile.Open(Path.Combine(folder, "io.safetensors"));
        var shape = io.Get("input_ids").Shape;
        int batch = (int)shape[0], seq = (int)shape[1];
        using var backend = new CpuBackend();
        using var model = T5EncoderLoader.Load(Path.Combine(folder, "model"), backend);
        Assert.Empty(model.UnusedTensors);
        double tolerance = Tolerance(name);
        // The bias is a gather from the stored table: exact whatever the run's dtype.
        EncoderChecks.Close($"{name} position_bias", model.PositionBias(seq), io.ReadFloat32("position_bias"), 0, output);
        using var result = model.Forward(io.ReadInt32("input_ids"), batch, seq, blockOutputs: Enumerable.Range(0, model.Layers.Count));
        for (int i = 0; i < model.Layers.Count; i++)
            EncoderChecks.Close($"{name} block.{i}", Read(backend, result.BlockOutputs[i]), io.ReadFloat32($"block.{i}"), tolerance,
                                output);
        EncoderChecks.Close($"{name} last_hidden_state", Read(backend, result.LastHiddenState), io.ReadFloat32("last_hidden_state"),
                            tolerance, output);
    }

    static double Tolerance(string name) => name.EndsWith("-bf16", StringComparison.Ordinal) ? 2e-2 : 1e-4;

    static float[] Read(CpuBackend backend, Qzo.Compute.DeviceTensor t) => HostFloats.Download(backend, t);

    static string Fixture(string name)
    {
        string folder = TestPaths.Fixture("sd3", name);
        if (!Directory.Exists(folder) || !File.Exists(Path.Combine(folder, "io.safetensors")))
            Assert.Fail($"parity fixture tests/fixtures/sd3/{name} is missing: it is recorded on the GPU machine by " +
                        "tests/oracle/sd3_reference.py (transformers 5.17) and merged into main; until then this test cannot pass");
        return folder;
    }
}
