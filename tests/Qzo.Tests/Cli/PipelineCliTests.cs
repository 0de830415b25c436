using System.Text.Json.Nodes;
using Qzo.Tests.Models;

namespace Qzo.Tests.Cli;

/// <summary>`finetune --split layers`: a pipeline of threads and of worker processes (over TCP) against one device.</summary>
public class PipelineCliTests
{
    [Fact]
    public void ThreadAndProcessPipelinesSaveTheCheckpointOfOneDevice()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 9, length: 10, vocab: 320, seed: 4);
        string[] Args(string name, params string[] extra) =>
            ["finetune", model, "--train", data, "--validation", data, "--out", folder[name], "--steps", "3", "--batch-size", "5",
             "--lr", "1e-3", "--seed", "8", "--eval-every", "2", "--json", folder[name + ".json"], .. extra];

        CliProcess.Ok(Args("single"));
        var threads = CliProcess.Ok(Args("threads", "--devices", "cpu:2", "--split", "layers", "--micro-batches", "3"));
        var processes = CliProcess.Ok(Args("processes", "--devices", "cpu-processes:2", "--split", "layers"));

        static string OneLine(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " "); // the console wraps
        const string Layout = "pipeline: 2 ranks (rank 0 layers 0..0, rank 1 layers 1..1; the first embeds, the last scores), ";
        Assert.Contains(Layout + "3 micro-batches a batch", OneLine(threads.Stdout));
        Assert.Contains(Layout + "2 micro-batches a batch", OneLine(processes.Stdout));
        var single = JsonNode.Parse(File.ReadAllText(folder["single.json"]))!;
        foreach (var name in new[] { "threads", "processes" })
        {
            var summary = JsonNode.Parse(File.ReadAllText(folder[name + ".json"]))!;
            Assert.Equal((int)single["trainable_tensors"]!, (int)summary["trainable_tensors"]!); // counted over both ranks
            Assert.Equal((double)single["after"]!["loss"]!, (double)summary["after"]!["loss"]!);
            foreach (var file in Directory.GetFiles(folder["single"]).Select(Path.GetFileName))
                Assert.Equal(File.ReadAllBytes(Path.Combine(folder["single"], file!)),
                             File.ReadAllBytes(Path.Combine(folder[name], file!)));
        }
    }

    [Theory]
    [InlineData("--split", "rows", "error: --split must be batch or layers, got 'rows'")]
    [InlineData("--micro-batches", "4",
        "error: --micro-batches applies to --split layers (a pipeline); data-parallel ranks score their share in one pass")]
    public void BadPipelineOptionsGiveOneLine(string option, string value, string expected)
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 3, length: 6, vocab: 320, seed: 1);
        var r = CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--devices", "cpu:2", option, value);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(expected, r.Stderr.Trim());
    }
}
