using System.Text.Json.Nodes;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Tests.Cli;

namespace Qzo.Tests.Models;

/// <summary>
/// Qwen3 as transformers' Qwen3Config reads it (head_dim 128 by default, attention_bias on all four attention linears, q/k
/// norms always, Qwen2's sliding windows), and the verbs end to end: synth → quantize (RTN) → finetune → generate.
/// Its forward pass and KV cache are checked against the reference with the other families.
/// </summary>
public class Qwen3Tests
{
    static LlamaConfig Parse(string keys, int layers = 3) => (LlamaConfig)ModelConfig.Parse(new JsonConfigReader(JsonNode.Parse($$"""
        {"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "vocab_size": 320, "hidden_size": 64,
         "intermediate_size": 96, "num_hidden_layers": {{layers}}, "num_attention_heads": 4, "num_key_value_heads": 2 {{keys}}}
        """)!.AsObject(), "dir/config.json"));

    [Fact]
    public void ConfigReadsAsTransformersDoes()
    {
        var plain = Parse("");
        Assert.Same(ArchitectureRegistry.Qwen3, plain.Architecture);
        Assert.Equal(128, plain.HeadDim); // Qwen3Config's default, not hidden / heads
        Assert.True(plain.QkNorm);
        Assert.False(plain.QkvBias || plain.OutputBias || plain.MlpBias);
        Assert.Null(plain.LayerWindows);
        Assert.Contains(plain.Describe(), row => row.Value.Contains("q/k norms"));

        var biased = Parse(""", "attention_bias": true, "head_dim": 24""");
        Assert.Equal(24, biased.HeadDim);
        Assert.True(biased.QkvBias && biased.OutputBias);
        Assert.False(biased.MlpBias);

        Assert.Null(Parse(""", "use_sliding_window": false, "sliding_window": 4, "max_window_layers": 1""").LayerWindows);
        Assert.Equal([0, 4, 4], Parse(""", "use_sliding_window": true, "sliding_window": 4, "max_window_layers": 1""").LayerWindows!);
        // Qwen3Config's defaults where the keys are absent: sliding_window 4096 from layer max_window_layers = 28 on.
        Assert.Equal(Enumerable.Repeat(0, 28).Concat([4096, 4096]),
            Parse(""", "use_sliding_window": true""", layers: 30).LayerWindows!);
        Assert.Null(Parse(""", "use_sliding_window": true, "sliding_window": null""").LayerWindows);
        Assert.Equal([4, 0, 4], Parse("""
            , "use_sliding_window": true, "sliding_window": 4,
              "layer_types": ["sliding_attention", "full_attention", "sliding_attention"]
            """).LayerWindows!);
    }

    [Fact]
    public void SynthWritesTheQwen3Layout()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Dense(folder, ArchitectureRegistry.Qwen3, "m"));
        var config = (LlamaConfig)checkpoint.Config;
        Assert.Equal((24, true, false), (config.HeadDim, config.QkNorm, config.QkvBias));
        Assert.Equal([24L], checkpoint.Tensors.Get("model.layers.1.self_attn.k_norm.weight").Shape);
        Assert.DoesNotContain(checkpoint.Tensors.Names, n => n.EndsWith(".bias") || n == "lm_head.weight");
        Assert.Equal(config.ParameterCount,
            checkpoint.Tensors.Names.Sum(n => checkpoint.Tensors.Get(n).Shape.Aggregate(1L, (a, b) => a * b)));
    }

    [Fact]
    public void SynthQuantizeFinetuneGenerate()
    {
        using var folder = new TempFolder();
        CliProcess.Ok("synth", "--architecture", "qwen3", "--out", folder["m"], "--hidden", "64", "--layers", "2", "--heads", "4",
                      "--kv-heads", "2", "--head-dim", "24", "--intermediate", "96", "--vocab", "320", "--tie-embeddings");
        CliProcess.Ok("quantize", folder["m"], folder["q"], "--method", "rtn", "--bits", "4", "--group-size", "24");
        string data = TeacherData.Write(folder["train.jsonl"], rows: 8, length: 12, vocab: 320, seed: 6);
        CliProcess.Ok("finetune", folder["q"], "--train", data, "--out", folder["tuned"], "--steps", "2", "--batch-size", "4",
                      "--lr", "1e-3");
        CliProcess.Ok("generate", folder["tuned"], "--prompt", "hello", "--max-new-tokens", "5", "--device", "cpu",
                      "--json", folder["out.json"]);
        var generated = JsonNode.Parse(File.ReadAllText(folder["out.json"]))!;
        Assert.Contains("hello", generated.ToJsonString());
    }
}
