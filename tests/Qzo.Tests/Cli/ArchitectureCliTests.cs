using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Quantization;

namespace Qzo.Tests.Cli;

/// <summary>
/// The verbs end to end on the other architectures: synth → quantize (every decoder-layer linear, nothing else)
/// → inspect → finetune (only scales change) → eval of the tuned checkpoint.
/// </summary>
public class ArchitectureCliTests
{
    [Theory]
    [InlineData("opt", 6, new[] { "--word-embed-dim", "48" })]
    [InlineData("qwen2", 7, new[] { "--kv-heads", "2", "--tie-embeddings" })]
    [InlineData("mistral", 7, new[] { "--kv-heads", "2", "--sliding-window", "4" })]
    [InlineData("qwen3", 7, new[] { "--kv-heads", "2", "--head-dim", "24", "--tie-embeddings" })]
    [InlineData("gemma3_text", 7, new[] { "--kv-heads", "1", "--head-dim", "24", "--sliding-window", "4" })]
    public void SynthQuantizeInspectFinetuneEval(string architecture, int linearsPerLayer, string[] extra)
    {
        using var folder = new TempFolder();
        CliProcess.Ok(["synth", "--architecture", architecture, "--out", folder["m"], "--hidden", "64", "--layers", "2", "--heads", "4",
                       "--intermediate", "96", "--vocab", "320", "--max-positions", "64", .. extra]);
        CliProcess.Ok("quantize", folder["m"], folder["q"], "--bits", "4", "--group-size", "32");

        using (var dense = CheckpointTensors.Open(folder["m"]))
        using (var quantized = Checkpoint.Open(folder["q"]))
        {
            Assert.Equal(architecture, quantized.Config.Architecture.ModelType);
            var qweights = quantized.Tensors.Names.Where(n => n.EndsWith(".qweight")).ToList();
            Assert.Equal(2 * linearsPerLayer, qweights.Count);
            foreach (var name in dense.Names.Where(n => !CheckpointQuantizer.IsQuantizable(n)))
                Assert.Equal(dense.FileOf(name).GetBytes(name).ToArray(), quantized.Tensors.FileOf(name).GetBytes(name).ToArray());
            Assert.Equal(dense.Names.Count(CheckpointQuantizer.IsQuantizable), qweights.Count);
        }

        var inspect = CliProcess.Ok("inspect", folder["q"]).Stdout;
        Assert.Contains(ArchitectureRegistry.Parse(architecture, "").ClassName, inspect);
        Assert.Contains("GPTQ 4-bit, group 32", inspect);

        string data = TeacherData.Write(folder["train.jsonl"], rows: 8, length: 12, vocab: 320, seed: 6);
        CliProcess.Ok("finetune", folder["q"], "--train", data, "--validation", data, "--out", folder["tuned"], "--steps", "2",
                      "--batch-size", "4", "--lr", "1e-3", "--metrics", folder["metrics.jsonl"]);
        var steps = File.ReadLines(folder["metrics.jsonl"]).Select(l => JsonNode.Parse(l)!)
            .Where(n => (string)n["type"]! == "step").ToList();
        Assert.Equal(2, steps.Count);
        Assert.All(steps, s => Assert.NotEqual((double)s["loss_plus"]!, (double)s["loss_minus"]!)); // the perturbation reached the model

        using (var before = SafetensorsFile.Open(Path.Combine(folder["q"], "model.safetensors")))
        using (var after = SafetensorsFile.Open(Path.Combine(folder["tuned"], "model.safetensors")))
        {
            Assert.Equal(before.HeaderJsonBytes.ToArray(), after.HeaderJsonBytes.ToArray());
            foreach (var t in before.Tensors)
            {
                bool same = before.GetBytes(t.Name).SequenceEqual(after.GetBytes(t.Name));
                Assert.True(t.Name.EndsWith(".scales") ? !same : same, $"{t.Name}: {(same ? "unchanged" : "changed")}");
            }
        }

        CliProcess.Ok("eval", folder["tuned"], "--data", data, "--json", folder["eval.json"]);
        var result = JsonNode.Parse(File.ReadAllText(folder["eval.json"]))!;
        Assert.Equal(8, (int)result["examples"]!);
        Assert.True(double.IsFinite((double)result["loss"]!));
    }

    [Fact]
    public void SynthRefusesOptionsTheArchitectureDoesNotHave()
    {
        using var folder = new TempFolder();
        foreach (var (args, mentions) in new[]
        {
            (new[] { "--architecture", "falcon" }, "'falcon'"),
            (new[] { "--architecture", "opt", "--kv-heads", "2" }, "--kv-heads"),
            (new[] { "--architecture", "qwen2", "--sliding-window", "4" }, "--sliding-window"),
            (new[] { "--architecture", "llama", "--word-embed-dim", "32" }, "--word-embed-dim"),
        })
        {
            var r = CliProcess.Run(["synth", "--out", folder["m"], "--hidden", "32", "--layers", "1", "--heads", "2", .. args]);
            Assert.True(r.ExitCode == 1, r.ToString());
            Assert.Contains(mentions, r.Stderr);
            Assert.False(Directory.Exists(folder["m"]));
        }
    }
}
