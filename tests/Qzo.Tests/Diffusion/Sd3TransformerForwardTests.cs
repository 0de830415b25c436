using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Sd3;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization.Bnb;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion;

/// <summary>
/// <see cref="Sd3Transformer"/> on synthesized folders against <see cref="ReferenceSd3Transformer"/> (naive double loops over
/// the same weights): every intermediate of a dual block, a plain block and the context-pre-only last block; and the
/// loader's refusals.
/// </summary>
public class Sd3TransformerForwardTests(ITestOutputHelper output) : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    public static TheoryData<string> Variants => ["fixture-shape", "bf16-weights", "no-qk-norm-last-block-dual-off-centre"];

    [Theory, MemberData(nameof(Variants))]
    public void EveryIntermediateMatchesTheNaiveReference(string variant)
    {
        var (config, dtype, height, width) = variant switch
        {
            "fixture-shape" => (Sd3TestRuns.FixtureConfig(), DType.F32, 10, 10),
            "bf16-weights" => (Sd3TestRuns.FixtureConfig(), DType.BF16, 10, 10),
            _ => (Sd3TestRuns.FixtureConfig(dual: [1, 2], qkNorm: false, outChannels: 8), DType.F32, 6, 10),
        };
        string folder = temp["model"];
        Sd3TransformerSynthesis.Write(folder, config, dtype, seed: 7);
        var inputs = Sd3TestRuns.RandomInputs(config, batch: 2, height, width, textTokens: 7, timesteps: [937.5f, 12.3f], seed: 3);

        using var backend = new CpuBackend();
        using var model = Sd3Transformer.Load(folder, backend);
        var ours = Sd3TestRuns.Run(model, inputs);
        var reference = new ReferenceSd3Transformer(folder).Run(inputs.Latents, inputs.Context, inputs.Pooled, inputs.Timesteps,
                                                                inputs.Batch, height, width, inputs.TextTokens);

        var names = new List<string> { "pos_embed", "temb", "context", "norm_out", "sample" };
        for (int i = 0; i < config.Layers; i++)
        {
            names.Add($"block.{i}.hidden_states");
            if (i < config.Layers - 1) names.Add($"block.{i}.encoder_hidden_states");
        }
        Assert.Equal(names.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(names.Order(StringComparer.Ordinal), reference.Keys.Order(StringComparer.Ordinal));
        foreach (var name in names)
        {
            var expected = reference[name].SelectMany(r => r).Select(v => (float)v).ToArray();
            Sd3TestRuns.Compare(name, ours[name], expected, 1e-5, output);
        }
        Assert.Equal(2 * config.OutChannels * height * width, ours["sample"].Length);
    }

    /// <summary>
    /// Every linear of a transformer quantized to bitsandbytes NF4 (double quantization) as diffusers saves it: loads through the
    /// same loader as quantized linears, and computes what the same model with the dequantized weights stored densely computes.
    /// </summary>
    [Fact]
    public void AnNf4TransformerRunsLikeItsDequantizedWeights()
    {
        var config = Sd3TestRuns.FixtureConfig();
        Sd3TransformerSynthesis.Write(temp["dense"], config, DType.F32, seed: 5);
        var format = new Bnb4BitCheckpointFormat(FourBitType.Nf4, 64, DoubleQuant: true);
        var quantized = new List<TensorToWrite>();
        var dequantized = new List<TensorToWrite>();
        using (var source = CheckpointTensors.Open(temp["dense"]))
            foreach (var name in source.Names)
            {
                var shape = source.Get(name).Shape;
                var values = source.ReadFloat32(name);
                TensorToWrite Dense(float[] v) => new(name, DType.F32, shape, DTypes.FromSingle(DType.F32, v));
                if (shape.Length != 2) { quantized.Add(Dense(values)); dequantized.Add(Dense(values)); continue; }
                var (tensors, weights) = format.Quantize(name[..^".weight".Length], values, (int)shape[0], (int)shape[1], DType.F32);
                quantized.AddRange(tensors);
                dequantized.Add(Dense(weights));
            }
        void WriteFolder(string folder, IReadOnlyList<TensorToWrite> tensors, bool nf4)
        {
            Directory.CreateDirectory(folder);
            var json = config.ToJson();
            if (nf4) json["quantization_config"] = format.QuantizationConfig([], [], DType.F32);
            File.WriteAllText(Path.Combine(folder, "config.json"), json.ToJsonString());
            SafetensorsWriter.Write(Path.Combine(folder, CheckpointTensors.DiffusersFileName), tensors);
        }
        WriteFolder(temp["nf4"], quantized, nf4: true);
        WriteFolder(temp["dequantized"], dequantized, nf4: false);

        using var backend = new CpuBackend();
        using var nf4 = Sd3Transformer.Load(temp["nf4"], backend);
        using var dense = Sd3Transformer.Load(temp["dequantized"], backend);
        Assert.Equal(50, nf4.AllLinears.Count());
        Assert.All(nf4.AllLinears, l => Assert.Equal("bitsandbytes nf4", Assert.IsAssignableFrom<IQuantizedLinear>(l).Method));
        var inputs = Sd3TestRuns.RandomInputs(config, batch: 2, 10, 10, textTokens: 7, timesteps: [937.5f, 12.3f], seed: 4);
        var expected = Sd3TestRuns.Run(dense, inputs);
        foreach (var (name, values) in Sd3TestRuns.Run(nf4, inputs)) Sd3TestRuns.Compare(name, values, expected[name], 1e-6, output);
    }

    [Fact]
    public void TheSynthesizedFolderIsInDiffusersLayout()
    {
        var config = Sd3TestRuns.FixtureConfig();
        Sd3TransformerSynthesis.Write(temp["model"], config, DType.BF16, seed: 1);
        var json = JsonNode.Parse(File.ReadAllText(temp["model/config.json"]))!.AsObject();
        Assert.Equal("SD3Transformer2DModel", (string?)json["_class_name"]);
        Assert.Equal("rms_norm", (string?)json["qk_norm"]);
        Assert.Equal(json.Select(kv => kv.Key).Order(StringComparer.Ordinal), json.Select(kv => kv.Key));
        Assert.Equal(config.ToJson().ToJsonString(), Sd3TransformerConfig.Load(temp["model/config.json"]).ToJson().ToJsonString());

        using var tensors = CheckpointTensors.Open(temp["model"]);
        Assert.EndsWith(CheckpointTensors.DiffusersFileName, tensors.Files.Single().Path);
        Assert.All(tensors.Names, n => Assert.Equal(DType.BF16, tensors.Get(n).DType));
        Assert.Equal([1L, 144, 16], tensors.Get("pos_embed.pos_embed").Shape);
        // 3 blocks: 11 linears each, 3 more in the two blocks that return text, 4 in the dual one; 4 q/k norms each, 2 more in attn2
        int linears = 3 * 11 + 2 * 3 + 4 + 7;
        Assert.Equal(2 * linears + 3 * 4 + 2 + 3, tensors.Names.Count);
    }

    [Fact]
    public void TensorsTheConfigDoesNotAccountForAreRefused()
    {
        Sd3TransformerSynthesis.Write(temp["model"], Sd3TestRuns.FixtureConfig(qkNorm: true), DType.F32, seed: 1);
        RewriteConfig(json => json["qk_norm"] = null);
        using var backend = new CpuBackend();
        var e = Assert.Throws<QzoException>(() => Sd3Transformer.Load(temp["model"], backend));
        Assert.Contains("14 tensors that config.json does not account for: transformer_blocks.0.attn.norm_added_k.weight", e.Message);
    }

    [Fact]
    public void MissingAndMisshapenTensorsAreNamed()
    {
        Sd3TransformerSynthesis.Write(temp["model"], Sd3TestRuns.FixtureConfig(qkNorm: false), DType.F32, seed: 1);
        using var backend = new CpuBackend();
        RewriteConfig(json => json["qk_norm"] = "rms_norm");
        var e = Assert.Throws<QzoException>(() => Sd3Transformer.Load(temp["model"], backend));
        Assert.Contains("tensor 'transformer_blocks.0.attn.norm_q.weight' is missing", e.Message);

        RewriteConfig(json => { json["qk_norm"] = null; json["dual_attention_layers"] = new JsonArray(0, 1); });
        e = Assert.Throws<QzoException>(() => Sd3Transformer.Load(temp["model"], backend));
        output.WriteLine(e.Message);
        Assert.Contains("'transformer_blocks.1.norm1.linear.bias' has shape [96] but config.json implies [144]", e.Message);
    }

    [Theory]
    [InlineData(26, 10, "a latent of 13×5 patches does not fit pos_embed_max_size 12")]
    [InlineData(10, 9, "latents of 10×9 do not divide into 2×2 patches")]
    public void LatentsTheModelCannotTakeAreRefused(int height, int width, string message)
    {
        var config = Sd3TestRuns.FixtureConfig();
        Sd3TransformerSynthesis.Write(temp["model"], config, DType.F32, seed: 1);
        using var backend = new CpuBackend();
        using var model = Sd3Transformer.Load(temp["model"], backend);
        var inputs = Sd3TestRuns.RandomInputs(config, 1, height, width, 3, [500f], seed: 1);
        var e = Assert.Throws<QzoException>(() => Sd3TestRuns.Run(model, inputs));
        Assert.Contains(message, e.Message);
    }

    void RewriteConfig(Action<JsonObject> change)
    {
        string path = temp["model/config.json"];
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(json);
        File.WriteAllText(path, json.ToJsonString());
    }
}
