using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Encoders.Clip;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// CLIPTextModelWithProjection against transformers 5.17 (tests/fixtures/sd3/clip-{l,g}-{fp32,bf16}): a CLIP-L-like tower
/// (quick_gelu, padded with 49407) and a CLIP-G-like one (gelu, padded with 0), read from the folder transformers saved,
/// fed the recorded input_ids and compared on every recorded output: the hidden_states tuple (embeddings and each layer,
/// index 2 being the penultimate state SD3 reads), each layer's output by hook, last_hidden_state and text_embeds.
/// </summary>
public class ClipParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("clip-l-fp32")]
    [InlineData("clip-l-bf16")]
    [InlineData("clip-g-fp32")]
    [InlineData("clip-g-bf16")]
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
        using var model = ClipTextLoader.Load(c.Model, backend);
        Assert.Empty(model.UnusedTensors);
        int layers = model.Layers.Count;
        using var result = model.Forward(c.Ints("input_ids"), batch, seq, hiddenStates: Enumerable.Range(0, layers + 1));
        for (int i = 0; i <= layers; i++) c.Check($"hidden_states.{i}", HostFloats.Download(backend, result.HiddenStates[i]), output);
        for (int i = 0; i < layers; i++) c.Check($"layer.{i}", HostFloats.Download(backend, result.HiddenStates[i + 1]), output);
        c.Check("last_hidden_state", HostFloats.Download(backend, result.LastHiddenState), output);
        c.Check("text_embeds", HostFloats.Download(backend, result.TextEmbeds!), output);
    }
}
