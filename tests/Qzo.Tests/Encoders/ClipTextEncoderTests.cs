using Qzo.Compute;
using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.Encoders;
using Qzo.Encoders.Clip;
using Qzo.Models;
using Xunit.Abstractions;

namespace Qzo.Tests.Encoders;

/// <summary>
/// CLIPTextModelWithProjection on synthesized folders, against <see cref="ReferenceClip"/> (naive loops in double):
/// every hidden state, each layer alone, the penultimate state Stable Diffusion 3 reads, the pooled position rule,
/// text_embeds, shapes and the loader's errors.
/// </summary>
public class ClipTextEncoderTests(ITestOutputHelper output)
{
    const int Seq = 77;

    static ClipTextConfig Tiny(string hiddenAct) => new()
    {
        VocabSize = 49408, HiddenSize = 32, IntermediateSize = 37, Heads = 4, Layers = 3, MaxPositions = 77,
        ProjectionDim = 24, HiddenAct = hiddenAct, EosTokenId = 2, BosTokenId = 0, PadTokenId = 1,
    };

    /// <summary>Two SD3-like rows: start, a few words, end of text, then padding.</summary>
    static int[] Prompts(int padId)
    {
        int[][] words = [[320, 1125, 539, 320, 2368], [3306, 1002, 267, 12, 46080, 7, 99, 4, 5000, 31]];
        var ids = new List<int>();
        foreach (var row in words)
        {
            var r = new List<int> { 49406 };
            r.AddRange(row);
            r.Add(ClipTextConfig.EndOfTextId);
            while (r.Count < Seq) r.Add(padId);
            ids.AddRange(r);
        }
        return ids.ToArray();
    }

    static string Synthesize(TempFolder temp, ClipTextConfig c, ulong seed = 7)
    {
        string folder = temp["clip"];
        ClipTextSynthesis.Write(folder, c, new EncoderSynthOptions { Seed = seed });
        return folder;
    }

    [Theory]
    [InlineData("quick_gelu", ClipTextConfig.EndOfTextId)]
    [InlineData("gelu", 0)]
    public void EveryHiddenStateAndOutputMatchesTheNaiveReference(string hiddenAct, int padId)
    {
        using var temp = new TempFolder();
        var c = Tiny(hiddenAct);
        string folder = Synthesize(temp, c);
        using var backend = new CpuBackend();
        using var model = ClipTextLoader.Load(folder, backend);
        Assert.Empty(model.UnusedTensors);
        using var checkpoint = Checkpoint.OpenComponent(folder);
        var reference = new ReferenceClip(checkpoint);
        var ids = Prompts(padId);
        using var result = model.Forward(ids, 2, Seq, hiddenStates: Enumerable.Range(0, c.Layers + 1));

        Assert.Equal(Enumerable.Range(0, c.Layers + 1), result.HiddenStates.Keys.Order());
        Assert.Equal([6, 11], result.PooledPositions); // the first 49407 of each row, whatever the padding
        int h = c.HiddenSize;
        var last = HostFloats.Download(backend, result.LastHiddenState);
        var pooled = HostFloats.Download(backend, result.Pooled);
        var embeds = HostFloats.Download(backend, result.TextEmbeds!);
        Assert.Equal(2 * Seq * h, last.Length);
        Assert.Equal(2 * h, pooled.Length);
        Assert.Equal(2 * c.ProjectionDim, embeds.Length);
        for (int b = 0; b < 2; b++)
        {
            var row = ids.AsSpan(b * Seq, Seq).ToArray();
            var states = reference.HiddenStates(row);
            for (int i = 0; i <= c.Layers; i++)
            {
                var ours = RowOf(HostFloats.Download(backend, result.HiddenStates[i]), b, Seq * h);
                EncoderChecks.Close($"row {b} hidden_states.{i}", ours, EncoderChecks.Flat(states[i]), 1e-4, output);
            }
            var finalRows = states[^1].Select(reference.FinalNorm).ToArray();
            EncoderChecks.Close($"row {b} last_hidden_state", RowOf(last, b, Seq * h), EncoderChecks.Flat(finalRows), 1e-4, output);
            var expectedPooled = finalRows[result.PooledPositions[b]];
            EncoderChecks.Close($"row {b} pooled", RowOf(pooled, b, h), EncoderChecks.Flat([expectedPooled]), 1e-4, output);
            EncoderChecks.Close($"row {b} text_embeds", RowOf(embeds, b, c.ProjectionDim),
                                EncoderChecks.Flat([reference.Project(expectedPooled)]), 1e-4, output);
        }
    }

    [Fact]
    public void EachLayerAloneMatchesANaiveLoopOverTheSameWeights()
    {
        using var temp = new TempFolder();
        var c = Tiny("quick_gelu");
        string folder = Synthesize(temp, c, seed: 11);
        using var backend = new CpuBackend();
        using var model = ClipTextLoader.Load(folder, backend);
        using var checkpoint = Checkpoint.OpenComponent(folder);
        var reference = new ReferenceClip(checkpoint);
        var ids = Prompts(ClipTextConfig.EndOfTextId);
        using var result = model.Forward(ids, 2, Seq, hiddenStates: Enumerable.Range(0, c.Layers + 1));
        int width = Seq * c.HiddenSize;
        for (int l = 0; l < c.Layers; l++)
        {
            var input = HostFloats.Download(backend, result.HiddenStates[l]);
            var ours = HostFloats.Download(backend, result.HiddenStates[l + 1]);
            for (int b = 0; b < 2; b++)
            {
                var rows = Enumerable.Range(0, Seq)
                    .Select(t => input.AsSpan(b * width + t * c.HiddenSize, c.HiddenSize).ToArray().Select(v => (double)v).ToArray())
                    .ToArray();
                EncoderChecks.Close($"layer {l} row {b}", RowOf(ours, b, width), EncoderChecks.Flat(reference.Layer(l, rows)), 1e-4,
                                    output);
            }
        }
    }

    [Fact]
    public void ThePenultimateHiddenStateIsTheSecondToLastLayersOutputWithoutTheFinalNorm()
    {
        using var temp = new TempFolder();
        var c = Tiny("gelu");
        string folder = Synthesize(temp, c);
        using var backend = new CpuBackend();
        using var model = ClipTextLoader.Load(folder, backend);
        using var checkpoint = Checkpoint.OpenComponent(folder);
        var reference = new ReferenceClip(checkpoint);
        var ids = Prompts(0);
        using var result = model.Forward(ids, 2, Seq, hiddenStates: [-2]);

        Assert.Equal([c.Layers - 1], result.HiddenStates.Keys);
        var penultimate = HostFloats.Download(backend, result.HiddenStates[c.Layers - 1]);
        var row = ids.AsSpan(0, Seq).ToArray();
        var states = reference.HiddenStates(row);
        int width = Seq * c.HiddenSize;
        EncoderChecks.Close("hidden_states[-2]", RowOf(penultimate, 0, width), EncoderChecks.Flat(states[c.Layers - 1]), 1e-4, output);
        // Neither the last layer's output nor any final-normed state: those differ by far more than the tolerance.
        Assert.ThrowsAny<Exception>(() => EncoderChecks.Close("vs hidden_states[-1]", RowOf(penultimate, 0, width),
                                                              EncoderChecks.Flat(states[c.Layers]), 1e-2));
        Assert.ThrowsAny<Exception>(() => EncoderChecks.Close("vs final norm", RowOf(penultimate, 0, width),
                                                              EncoderChecks.Flat(states[c.Layers - 1].Select(reference.FinalNorm)), 1e-2));
        Assert.Throws<QzoException>(() => model.Forward(ids, 2, Seq, hiddenStates: [c.Layers + 1]).Dispose());
        Assert.Throws<QzoException>(() => model.Forward(ids, 2, Seq, hiddenStates: [-(c.Layers + 2)]).Dispose());
    }

    [Fact]
    public void PooledPositionFollowsTransformersRule()
    {
        const int E = ClipTextConfig.EndOfTextId;
        // Every row's largest id is 49407: the first position of each row's largest id, padding 49407 or 0 alike.
        Assert.Equal([2, 1], ClipPooling.Positions([49406, 5, E, E, 49406, E, 0, 0], 2, 4, eosTokenId: 2));
        // One row without 49407: every row takes the first position holding eos_token_id, or 0 where none does.
        Assert.Equal([3, 0], ClipPooling.Positions([49406, 5, E, 2, 49406, 7, 8, 9], 2, 4, eosTokenId: 2));
        Assert.Equal([1, 2], ClipPooling.Positions([0, 9, 5, 9, 0, 4, 9, 9], 2, 4, eosTokenId: 9));
        // Ids above 49407 (added tokens): no longer the legacy rule.
        Assert.Equal([3], ClipPooling.Positions([49406, 49408, E, 2], 1, 4, eosTokenId: 2));
    }

    [Fact]
    public void IdsWithoutEndOfTextPoolAtTheConfiguredEosToken()
    {
        using var temp = new TempFolder();
        var c = Tiny("quick_gelu") with { EosTokenId = 500 };
        string folder = Synthesize(temp, c);
        using var backend = new CpuBackend();
        using var model = ClipTextLoader.Load(folder, backend);
        using var checkpoint = Checkpoint.OpenComponent(folder);
        var reference = new ReferenceClip(checkpoint);
        int[] ids = [49406, 17, 500, 500, 3, 0, 49406, 21, 22, 500, 0, 0];
        using var result = model.Forward(ids, 2, 6);
        Assert.Equal([2, 3], result.PooledPositions);
        var embeds = HostFloats.Download(backend, result.TextEmbeds!);
        for (int b = 0; b < 2; b++)
        {
            var states = reference.HiddenStates(ids.AsSpan(b * 6, 6).ToArray());
            var pooled = reference.FinalNorm(states[^1][result.PooledPositions[b]]);
            EncoderChecks.Close($"row {b} text_embeds", RowOf(embeds, b, c.ProjectionDim), EncoderChecks.Flat([reference.Project(pooled)]),
                                1e-4, output);
        }
    }

    [Fact]
    public void SynthesizedConfigReadsBackAndBadConfigsAreRefusedByKey()
    {
        using var temp = new TempFolder();
        var c = Tiny("gelu");
        string folder = Synthesize(temp, c);
        Assert.Equal(c, ClipTextConfig.Load(Path.Combine(folder, "config.json")));

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        string Refusal(Action<JsonObject> edit)
        {
            var copy = json.DeepClone().AsObject();
            edit(copy);
            string path = temp["edited.json"];
            File.WriteAllText(path, copy.ToJsonString());
            return Assert.Throws<QzoException>(() => ClipTextConfig.Load(path)).Message;
        }
        Assert.Contains("'hidden_act' 'relu6'", Refusal(o => o["hidden_act"] = "relu6"));
        Assert.Contains("required key 'hidden_size'", Refusal(o => o.Remove("hidden_size")));
        Assert.Contains("model_type 't5'", Refusal(o => o["model_type"] = "t5"));
        Assert.Contains("CLIPVisionModel", Refusal(o => o["architectures"] = new JsonArray("CLIPVisionModel")));
        Assert.Contains("'num_attention_heads' (5)", Refusal(o => o["num_attention_heads"] = 5));
        Assert.Contains("edited.json", Refusal(o => o["hidden_act"] = "relu6"));
    }

    [Fact]
    public void StableDiffusion3PresetsWriteTheHubsConfigValues()
    {
        var l = ClipTextSynthesis.Config(ClipTextConfig.StableDiffusion3L, new EncoderSynthOptions());
        var g = ClipTextSynthesis.Config(ClipTextConfig.StableDiffusion3G, new EncoderSynthOptions());
        Assert.Equal((768, 12, 12, 3072, "quick_gelu", 768), Shape(l));
        Assert.Equal((1280, 32, 20, 5120, "gelu", 1280), Shape(g));
        foreach (var c in new[] { l, g })
        {
            Assert.Equal((49408, 77, 2, 0, 1), ((int)c["vocab_size"]!, (int)c["max_position_embeddings"]!, (int)c["eos_token_id"]!,
                                                (int)c["bos_token_id"]!, (int)c["pad_token_id"]!));
            Assert.Equal(1e-5, (double)c["layer_norm_eps"]!, 1e-12);
            Assert.Equal("CLIPTextModelWithProjection", (string)c["architectures"]![0]!);
        }

        static (int, int, int, int, string, int) Shape(JsonObject c) => ((int)c["hidden_size"]!, (int)c["num_hidden_layers"]!,
            (int)c["num_attention_heads"]!, (int)c["intermediate_size"]!, (string)c["hidden_act"]!, (int)c["projection_dim"]!);
    }

    [Fact]
    public void LoaderNamesAMissingTensorAndForwardRefusesTooManyTokens()
    {
        using var temp = new TempFolder();
        var c = Tiny("quick_gelu") with { Layers = 1 };
        string folder = Synthesize(temp, c);
        using (var backend = new CpuBackend())
        using (var model = ClipTextLoader.Load(folder, backend))
        {
            Assert.Contains("78 tokens", Assert.Throws<QzoException>(() => model.Forward(new int[78], 1, 78)).Message);
            Assert.Contains("49408", Assert.Throws<QzoException>(() => model.Forward([49408], 1, 1)).Message);
        }
        var plain = c with { HasProjection = false };
        string other = temp["plain"];
        ClipTextSynthesis.Write(other, plain, new EncoderSynthOptions());
        using (var backend = new CpuBackend())
        using (var model = ClipTextLoader.Load(other, backend))
        using (var result = model.Forward([49406, 1, 49407], 1, 3))
            Assert.Null(result.TextEmbeds);
        // A CLIPTextModelWithProjection config over a folder without text_projection.
        File.Copy(Path.Combine(folder, "config.json"), Path.Combine(other, "config.json"), overwrite: true);
        using (var backend = new CpuBackend())
            Assert.Contains("'text_projection.weight' is missing",
                            Assert.Throws<QzoException>(() => ClipTextLoader.Load(other, backend)).Message);
    }

    [Fact]
    public void Nf4QuantizedLinearsLoadAndMatchTheReferenceOnTheirDequantizedWeights()
    {
        using var temp = new TempFolder();
        var c = Tiny("quick_gelu") with { Layers = 2 };
        string dense = Synthesize(temp, c);
        string quantized = temp["nf4"];
        string[] names = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj", "mlp.fc1", "mlp.fc2"];
        var linears = Enumerable.Range(0, c.Layers).SelectMany(i => names.Select(n => $"text_model.encoder.layers.{i}.{n}"))
            .Append("text_projection");
        EncoderQuantization.Nf4(dense, quantized, linears, doubleQuant: true);
        using var backend = new CpuBackend();
        using var model = ClipTextLoader.Load(quantized, backend);
        Assert.Empty(model.UnusedTensors);
        Assert.All(model.AllLinears, l => Assert.IsAssignableFrom<IQuantizedLinear>(l));
        using var checkpoint = Checkpoint.OpenComponent(quantized);
        var reference = new ReferenceClip(checkpoint); // dequantizes with the format's plain reference
        var ids = Prompts(ClipTextConfig.EndOfTextId);
        using var result = model.Forward(ids, 2, Seq, hiddenStates: [-2]);
        var states = reference.HiddenStates(ids.AsSpan(0, Seq).ToArray());
        int width = Seq * c.HiddenSize;
        EncoderChecks.Close("NF4 hidden_states[-2]", RowOf(HostFloats.Download(backend, result.HiddenStates[c.Layers - 1]), 0, width),
                            EncoderChecks.Flat(states[c.Layers - 1]), 1e-4, output);
        var pooled = reference.FinalNorm(states[^1][result.PooledPositions[0]]);
        EncoderChecks.Close("NF4 text_embeds", RowOf(HostFloats.Download(backend, result.TextEmbeds!), 0, c.ProjectionDim),
                            EncoderChecks.Flat([reference.Project(pooled)]), 1e-4, output);
    }

    static float[] RowOf(float[] values, int row, int width) => values.AsSpan(row * width, width).ToArray();
}
