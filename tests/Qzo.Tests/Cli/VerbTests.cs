using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Qzo.Text;

namespace Qzo.Tests.Cli;

public class VerbTests
{
    [Fact]
    public void SynthWritesALoadableCheckpointWithATokenizerOfExactlyTheVocabSize()
    {
        using var folder = new TempFolder();
        CliProcess.Ok("synth", "--out", folder["m"], "--hidden", "96", "--layers", "3", "--heads", "6", "--kv-heads", "2",
                      "--vocab", "400", "--tie-embeddings", "--dtype", "fp16", "--rope-theta", "500000");
        using var checkpoint = Checkpoint.Open(folder["m"]);
        var config = Assert.IsType<LlamaConfig>(checkpoint.Config);
        Assert.Equal(ArchitectureRegistry.Llama, config.Architecture);
        Assert.Equal(400, config.VocabSize);
        Assert.Equal(2, config.KvHeads);
        Assert.Equal(16, config.HeadDim);
        Assert.Equal(500000, config.Rope.Theta);
        Assert.True(config.TieWordEmbeddings);
        Assert.False(checkpoint.Tensors.Contains("lm_head.weight"));
        Assert.Equal(DType.F16, checkpoint.Tensors.Get("model.embed_tokens.weight").DType);
        Assert.Equal(400, Tokenizer.Load(folder["m"]).VocabSize);
        var again = CliProcess.Run("synth", "--out", folder["m"]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Stderr);
    }

    [Fact]
    public void QuantizeWritesTheGptqLayoutAndCopiesEverythingElse()
    {
        using var folder = new TempFolder();
        CliProcess.Ok("synth", "--out", folder["m"], "--hidden", "64", "--layers", "2", "--heads", "4", "--intermediate", "96",
                      "--vocab", "320");
        CliProcess.Ok("quantize", folder["m"], folder["q"], "--bits", "4", "--group-size", "32");
        using var source = CheckpointTensors.Open(folder["m"]);
        using var quantized = Checkpoint.Open(folder["q"]);
        Assert.Equal(new GptqConfig(4, 32, false, true, GptqCheckpointFormat.Gptq, Quantizer: GptqConfig.QzoQuantizerTag), quantized.Gptq);
        Assert.True(File.Exists(Path.Combine(folder["q"], "quantize_config.json")));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder["q"], "config.json")))!;
        Assert.Equal("gptq", (string)config["quantization_config"]!["quant_method"]!);
        Assert.Equal(64, (int)config["hidden_size"]!);
        foreach (var name in source.Names)
        {
            if (CheckpointQuantizer.IsQuantizable(name))
            {
                string p = name[..^".weight".Length];
                Assert.False(quantized.Tensors.Contains(name));
                Assert.Equal(DType.I32, quantized.Tensors.Get(p + ".qweight").DType);
                Assert.Equal(DType.I32, quantized.Tensors.Get(p + ".qzeros").DType);
                Assert.Equal(DType.F16, quantized.Tensors.Get(p + ".scales").DType);
                Assert.Equal(DType.I32, quantized.Tensors.Get(p + ".g_idx").DType);
                Assert.All(quantized.Tensors.ReadInt32(p + ".qzeros"), w => Assert.Equal(0x77777777, w)); // symmetric v1
            }
            else Assert.Equal(source.FileOf(name).GetBytes(name).ToArray(), quantized.Tensors.FileOf(name).GetBytes(name).ToArray());
        }
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder["m"], file)), File.ReadAllBytes(Path.Combine(folder["q"], file)));

        var twice = CliProcess.Run("quantize", folder["q"], folder["q2"]);
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("already quantized", twice.Stderr);
        Assert.False(Directory.Exists(folder["q2"]));
    }

    [Fact]
    public void TokenizePrintsIdsAndDecodesThem()
    {
        using var folder = new TempFolder();
        CliProcess.Ok("synth", "--out", folder["m"], "--hidden", "32", "--layers", "1", "--heads", "2", "--vocab", "320");
        var ids = JsonSerializer.Deserialize<int[]>(CliProcess.Ok("tokenize", "--tokenizer", folder["m"], "Hello, world!").Stdout)!;
        Assert.Equal(1, ids[0]);
        Assert.Equal(Tokenizer.Load(folder["m"]).Encode("Hello, world!"), ids);
        Assert.Equal("Hello, world!",
            CliProcess.Ok("tokenize", "--tokenizer", folder["m"], "--decode", JsonSerializer.Serialize(ids)).Stdout.TrimEnd('\n'));
        var bad = CliProcess.Run("tokenize", "--tokenizer", folder["m"], "--decode", "[1, 99999]");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("99999", bad.Stderr);
    }

    [Fact]
    public void EvalScoresClassificationByCandidateLossAndWritesJson()
    {
        using var folder = new TempFolder();
        CliProcess.Ok("synth", "--out", folder["m"], "--hidden", "32", "--layers", "1", "--heads", "2", "--vocab", "320");
        File.WriteAllLines(folder["cls.jsonl"], Enumerable.Range(0, 10).Select(i =>
            new JsonObject { ["sentence"] = $"movie number {i} was fine", ["label"] = i % 2 }.ToJsonString()));
        CliProcess.Ok("eval", folder["m"], "--data", folder["cls.jsonl"], "--template", "{sentence} It was",
                      "--verbalizers", """{"0": " terrible", "1": " great"}""", "--json", folder["r.json"]);
        var result = JsonNode.Parse(File.ReadAllText(folder["r.json"]))!;
        Assert.Equal(10, (int)result["examples"]!);
        double accuracy = (double)result["accuracy"]!;
        Assert.Equal(Math.Round(accuracy * 10), accuracy * 10, 9);

        var missing = CliProcess.Run("eval", folder["m"], "--data", folder["cls.jsonl"]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("cls.jsonl:1", missing.Stderr);
        Assert.Contains("--template", missing.Stderr);
    }

    [Fact]
    public void InspectNamesTheQuantizationAndCounts()
    {
        using var folder = new TempFolder();
        CliProcess.Ok("synth", "--out", folder["m"], "--hidden", "64", "--layers", "2", "--heads", "4", "--intermediate", "96",
                      "--vocab", "320");
        CliProcess.Ok("quantize", folder["m"], folder["q"], "--bits", "2", "--group-size", "-1");
        var text = CliProcess.Ok("inspect", folder["q"], "--tensors").Stdout;
        Assert.Contains("GPTQ 2-bit, group -1, sym", text);
        Assert.Contains("model.layers.1.mlp.down_proj.qweight", text);
        Assert.Contains("scales (what QZO trains)", text);
        Assert.Contains("tokenizer: 320 tokens", text);
    }

    [Fact]
    public void HelpExplainsEveryVerb()
    {
        var help = CliProcess.Ok("--help").Stdout;
        foreach (var verb in new[] { "demo", "synth", "quantize", "finetune", "eval", "generate", "inspect", "tokenize" })
            Assert.Contains(verb, help);
        var finetune = CliProcess.Ok("finetune", "--help").Stdout;
        foreach (var option in new[]
                 { "--steps", "--lr", "--eps", "--clip", "--batch-size", "--eval-every", "--max-length", "--method", "--seed" })
            Assert.Contains(option, finetune);
    }
}
