using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.IO;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Architectures.Gemma3;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Qzo.Tests.Cli;

namespace Qzo.Tests.Models;

/// <summary>
/// Gemma 3 as transformers' Gemma3TextConfig reads it (its defaults, `layer_types` or the legacy `sliding_window_pattern`,
/// RoPE per layer type in both spellings, a Gemma3ForConditionalGeneration's `text_config`), the double-precision reference
/// against transformers' own logits, and the verbs end to end. The CPU model against transformers is in
/// <see cref="HuggingFaceParityTests"/>; against the reference and the KV cache with the other families.
/// </summary>
public class Gemma3Tests
{
    static readonly string[] Fixtures = ["gemma3-softcap-fp32", "gemma3-bf16", "gemma3-multimodal-fp32"];

    static Gemma3Config Parse(JsonObject json) => (Gemma3Config)ModelConfig.Parse(new JsonConfigReader(json, "dir/config.json"));

    static JsonObject Text(string keys = "") => JsonNode.Parse($$"""
        {"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"], "vocab_size": 320, "hidden_size": 64,
         "intermediate_size": 96, "num_hidden_layers": 7, "num_attention_heads": 4 {{keys}}}
        """)!.AsObject();

    [Fact]
    public void ConfigDefaultsAreGemma3TextConfigs()
    {
        var c = Parse(Text());
        Assert.Same(ArchitectureRegistry.Gemma3, c.Architecture);
        Assert.Equal((4, 256, 256.0, 4096, true), (c.KvHeads, c.HeadDim, c.QueryPreAttnScalar, c.SlidingWindow, c.TieWordEmbeddings));
        Assert.Equal([true, true, true, true, true, false, true], c.SlidingLayers); // every 6th layer global
        Assert.Equal(new RopeConfig("default", 10_000), c.LocalRope);
        Assert.Equal(new RopeConfig("default", 1_000_000), c.GlobalRope);
        Assert.Null(c.FinalSoftcap);
        Assert.Equal((2, 0), (c.BosTokenId, c.PadTokenId));
        Assert.Equal([1], c.EosTokenIds);
        Assert.Equal(1 / 16f, c.AttentionScale);

        var spelled = Parse(Text("""
            , "sliding_window_pattern": 2, "sliding_window": null, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
              "query_pre_attn_scalar": 144
            """));
        Assert.Equal([true, false, true, false, true, false, true], spelled.SlidingLayers);
        Assert.Equal(0, spelled.SlidingWindow);
        Assert.Equal(30f, spelled.FinalSoftcap);
        Assert.Equal(1 / 12f, spelled.AttentionScale);

        foreach (var (keys, mentions) in new[]
        {
            (""", "hidden_activation": "gelu" """, "hidden_activation"), (""", "use_bidirectional_attention": true""", "bidirectional"),
            (""", "attn_logit_softcapping": -1""", "attn_logit"),
            (""", "layer_types": ["full_attention"]""", "layer_types"), (""", "num_key_value_heads": 3""", "num_key_value_heads"),
        })
            Assert.Contains(mentions, Assert.Throws<QzoException>(() => Parse(Text(keys))).Message);
    }

    /// <summary>The Hub's spelling of the softcap fixture's config (as transformers 5.17 was given it) against the saved one.</summary>
    static JsonObject LegacySpelling(JsonObject saved)
    {
        var legacy = saved.DeepClone().AsObject();
        legacy.Remove("layer_types");
        legacy.Remove("rope_parameters");
        legacy.Remove("_sliding_window_pattern");
        var hub = JsonNode.Parse("""
            {"sliding_window_pattern": 3, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
             "rope_scaling": {"rope_type": "linear", "factor": 8.0}}
            """)!.AsObject(); // sliding_window_pattern 3: layers 0, 1 local, 2 global
        foreach (var (key, value) in hub) legacy[key] = value?.DeepClone();
        return legacy;
    }

    [Fact]
    public void TheHubsLegacySpellingGivesTheSameModel()
    {
        string fixture = TestPaths.Fixture("hf-arch", "gemma3-softcap-fp32");
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture, "config.json")))!.AsObject();
        var (modern, legacy) = (Parse(saved), Parse(LegacySpelling(saved)));
        Assert.Equal(modern.SlidingLayers, legacy.SlidingLayers);
        Assert.Equal(new RopeConfig("linear", 1_000_000, Factor: 8), legacy.GlobalRope);
        Assert.Equal((modern.LocalRope, modern.GlobalRope), (legacy.LocalRope, legacy.GlobalRope));
        Assert.Equal(modern.Describe(), legacy.Describe());

        using var folder = new TempFolder();
        Directory.CreateDirectory(folder["legacy"]);
        File.Copy(Path.Combine(fixture, "model.safetensors"), Path.Combine(folder["legacy"], "model.safetensors"));
        File.WriteAllText(Path.Combine(folder["legacy"], "config.json"), LegacySpelling(saved).ToJsonString());
        var ids = TinyModels.RandomIds(9, 256, 3);
        Assert.Equal(LastLogits(fixture, ids), LastLogits(folder["legacy"], ids));
    }

    static float[][] LastLogits(string path, int[] ids)
    {
        using var checkpoint = Checkpoint.Open(path);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        var batch = new TokenBatch { Batch = 1, Seq = ids.Length, Ids = ids, AttentionMask = ids.Select(_ => 1).ToArray(), Labels = ids };
        return model.Logits(batch, Enumerable.Range(0, ids.Length).ToArray());
    }

    [Fact]
    public void TheMultimodalCheckpointReadsItsTextConfigAndLanguageModel()
    {
        using var checkpoint = Checkpoint.Open(TestPaths.Fixture("hf-arch", "gemma3-multimodal-fp32"));
        var c = (Gemma3Config)checkpoint.Config;
        Assert.Same(ArchitectureRegistry.Gemma3, c.Architecture);
        Assert.Equal((48, 2, 16, true), (c.HiddenSize, c.Layers, c.HeadDim, c.TieWordEmbeddings));
        Assert.Equal([true, false], c.SlidingLayers);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        Assert.Empty(model.UnusedTensors); // the vision tower and projector are ignored by name, not left over
        Assert.DoesNotContain(model.AllParameters, p => p.Name.Contains("vision") || p.Name.Contains("multi_modal"));
        Assert.Contains(model.AllParameters, p => p.Name == "language_model.model.layers.1.post_feedforward_layernorm.weight");
        Assert.Same(ArchitectureRegistry.Gemma3, ArchitectureRegistry.Parse("gemma3", "--architecture"));
    }

    [Fact]
    public void TransformersFivesInMemoryNamesLoadAlike()
    {
        // model.language_model.* and model.vision_tower.* (Gemma3ForConditionalGeneration's modules in transformers 5)
        // instead of the saved language_model.model.* and vision_tower.*: the same model, the vision parts still ignored.
        using var folder = new TempFolder();
        string source = TestPaths.Fixture("hf-arch", "gemma3-multimodal-fp32");
        Directory.CreateDirectory(folder["renamed"]);
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(folder["renamed"], "config.json"));
        using (var saved = SafetensorsFile.Open(Path.Combine(source, "model.safetensors")))
        {
            static string Renamed(string n) => n.StartsWith("language_model.model.", StringComparison.Ordinal)
                ? "model.language_model." + n["language_model.model.".Length..] : "model." + n;
            SafetensorsWriter.Write(Path.Combine(folder["renamed"], "model.safetensors"),
                saved.Tensors.Select(t => new TensorToWrite(Renamed(t.Name), t.DType, t.Shape, saved.GetBytes(t.Name).ToArray())).ToList());
        }
        var ids = TinyModels.RandomIds(7, 256, 4);
        Assert.Equal(LastLogits(source, ids), LastLogits(folder["renamed"], ids));
        using var checkpoint = Checkpoint.Open(folder["renamed"]);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        Assert.Empty(model.UnusedTensors);
        Assert.Contains(checkpoint.Tensors.Names, n => n.StartsWith("model.vision_tower.", StringComparison.Ordinal));
    }

    [Fact]
    public void AMultimodalCheckpointQuantizesItsLanguageModelOnly()
    {
        using var folder = new TempFolder();
        string source = TestPaths.Fixture("hf-arch", "gemma3-multimodal-fp32");
        CheckpointQuantizer.QuantizeRtn(source, folder["q"], GptqConfig.Create(4, 16, sym: true, GptqCheckpointFormat.Gptq));
        using var checkpoint = Checkpoint.Open(folder["q"]);
        var quantized = checkpoint.Tensors.Names.Where(n => n.EndsWith(".qweight", StringComparison.Ordinal)).ToList();
        Assert.Equal(2 * 7, quantized.Count);
        Assert.All(quantized, n => Assert.StartsWith("language_model.model.layers.", n));
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        Assert.Empty(model.UnusedTensors);
        Assert.Equal(2 * 7, model.Trainable.Count);
        var dense = ReferenceModels.For(checkpoint).Logits([1, 17, 42, 99, 3]);
        var actual = LastLogitsOf(model, [1, 17, 42, 99, 3]);
        Assert.True(dense[^1].Zip(actual, (e, a) => Math.Abs(e - a)).Max() < 1e-3, "the quantized model differs from its reference");
    }

    static float[] LastLogitsOf(CausalLanguageModel model, int[] ids)
    {
        var batch = new TokenBatch { Batch = 1, Seq = ids.Length, Ids = ids, AttentionMask = ids.Select(_ => 1).ToArray(), Labels = ids };
        return model.Logits(batch, [ids.Length - 1])[0];
    }

    [Theory]
    [InlineData("gemma3-softcap-fp32")]
    [InlineData("gemma3-bf16")]
    [InlineData("gemma3-multimodal-fp32")]
    public void RopeFrequenciesPerLayerTypeAreTransformers(string name)
    {
        string folder = TestPaths.Fixture("hf-arch", name);
        string json = File.ReadAllText(Path.Combine(folder, "reference.json")).Replace("NaN", "null"); // fp64 losses of padded rows
        var reference = JsonNode.Parse(json)!["inv_freqs"]!.AsObject();
        string prefix = name.Contains("multimodal") ? "model.language_model." : "model.";
        using var checkpoint = Checkpoint.Open(folder);
        var c = (Gemma3Config)checkpoint.Config;
        foreach (var (type, rope) in new[] { ("sliding_attention", c.LocalRope), ("full_attention", c.GlobalRope) })
        {
            var expected = reference[$"{prefix}rotary_emb.{type}_inv_freq"]!.AsArray().Select(v => (float)v!).ToArray();
            var actual = rope.InverseFrequencies(c.HeadDim);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < actual.Length; i++) Assert.Equal(expected[i], actual[i], expected[i] * 2e-6f);
        }
    }

    /// <summary>
    /// The double-precision reference against transformers' fp32 run: every real position of sequence 0, and each sequence's NLL.
    /// </summary>
    [Theory]
    [InlineData("gemma3-softcap-fp32")]
    [InlineData("gemma3-bf16")]
    [InlineData("gemma3-multimodal-fp32")]
    public void TheReferenceReproducesTransformers(string name)
    {
        string folder = TestPaths.Fixture("hf-arch", name);
        var fixture = HuggingFaceFixture.Load(folder);
        using var checkpoint = Checkpoint.Open(folder);
        var reference = ReferenceModels.For(checkpoint);
        double scale = fixture.fp32.first_sequence_logits.SelectMany(r => r).Max(v => Math.Abs((double)v));
        double tolerance = HuggingFaceChecks.LogitTolerance(scale);
        var first = reference.Logits(fixture.input_ids[0][..fixture.lengths[0]]);
        for (int t = 0; t < first.Length; t++)
            for (int v = 0; v < first[t].Length; v++)
                Assert.True(Math.Abs(first[t][v] - fixture.fp32.first_sequence_logits[t][v]) <= tolerance, $"position {t}, token {v}");
        for (int b = 0; b < fixture.input_ids.Length; b++)
        {
            var logits = reference.Logits(fixture.input_ids[b][..fixture.lengths[b]]);
            var labels = fixture.labels[b];
            double sum = 0;
            for (int t = 0; t + 1 < logits.Length; t++)
                if (labels[t + 1] >= 0)
                {
                    double max = logits[t].Max();
                    sum += Math.Log(logits[t].Sum(z => Math.Exp(z - max))) + max - logits[t][labels[t + 1]];
                }
            Assert.Equal(fixture.fp32.per_sequence[b].sum, sum, 1e-5 * Math.Max(1, Math.Abs(sum)));
        }
    }

    [Fact]
    public void SynthWritesTheGemma3Layout()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Dense(folder, ArchitectureRegistry.Gemma3, "m"));
        var c = (Gemma3Config)checkpoint.Config;
        Assert.Equal((24, 24.0, 4, false), (c.HeadDim, c.QueryPreAttnScalar, c.SlidingWindow, c.TieWordEmbeddings));
        Assert.Equal([true, false], c.SlidingLayers);
        Assert.Equal([64L], checkpoint.Tensors.Get("model.layers.1.pre_feedforward_layernorm.weight").Shape);
        Assert.Equal(c.ParameterCount, checkpoint.Tensors.Names.Sum(n => checkpoint.Tensors.Get(n).Shape.Aggregate(1L, (a, b) => a * b)));
    }

    /// <summary>QZO on RTN, NF4 and AQLM checkpoints (GPTQ: <see cref="ArchitectureCliTests"/>); MeZO on the dense one.</summary>
    [Theory]
    [InlineData("rtn", "qzo")]
    [InlineData("nf4", "qzo")]
    [InlineData("aqlm", "qzo")]
    [InlineData(null, "mezo")]
    public void SynthQuantizeFinetuneGenerate(string? method, string finetune)
    {
        using var folder = new TempFolder();
        CliProcess.Ok("synth", "--architecture", "gemma3", "--out", folder["m"], "--hidden", "64", "--layers", "2", "--heads", "4",
                      "--kv-heads", "2", "--head-dim", "24", "--intermediate", "96", "--vocab", "320", "--sliding-window", "4");
        string model = folder["m"];
        if (method is not null)
        {
            model = folder["q"];
            string[] options = method switch
            {
                "rtn" => ["--bits", "4", "--group-size", "24"], "aqlm" => ["--scheme", "2x8", "--rounds", "1"], _ => [],
            };
            CliProcess.Ok(["quantize", folder["m"], model, "--method", method, .. options]);
        }
        string data = TeacherData.Write(folder["train.jsonl"], rows: 8, length: 12, vocab: 320, seed: 6);
        CliProcess.Ok("finetune", model, "--method", finetune, "--train", data, "--out", folder["tuned"], "--steps", "2",
                      "--batch-size", "4", "--lr", "1e-3");
        CliProcess.Ok("generate", folder["tuned"], "--prompt", "hello", "--max-new-tokens", "5", "--device", "cpu",
                      "--json", folder["out.json"]);
        Assert.Contains("hello", JsonNode.Parse(File.ReadAllText(folder["out.json"]))!.ToJsonString());
    }
}
