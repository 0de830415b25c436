using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.Generation;
using Qzo.Models;
using Qzo.Tests.Models;
using Qzo.Text;

namespace Qzo.Tests.Cli;

public class GenerateCliTests
{
    static readonly string[] Prompts = ["Hello, world", "The cat"];

    [Fact]
    public void GeneratePrintsAndWritesWhatTheLibraryGenerates()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Dense(folder);
        File.WriteAllLines(folder["prompts.jsonl"], Prompts.Select(p => new JsonObject { ["prompt"] = p }.ToJsonString()));
        var greedy = new GenerationOptions { MaxNewTokens = 6 };
        var sampled = new GenerationOptions
        {
            MaxNewTokens = 9, Greedy = false, Temperature = 0.8f, TopK = 20, TopP = 0.9f, Seed = 3, StopStrings = ["e", "a"], BatchSize = 1
        };

        var run = CliProcess.Ok("generate", model, "--prompt", Prompts[0], "--prompt", Prompts[1], "--max-new-tokens", "6",
                                "--device", "cpu", "--json", folder["greedy.json"]);
        var expected = Expected(model, greedy);
        AssertJson(expected, folder["greedy.json"]);
        foreach (var g in expected) Assert.Contains(g.Text, run.Stdout);

        CliProcess.Ok("generate", model, "--prompts", folder["prompts.jsonl"], "--max-new-tokens", "9", "--sample", "--temperature", "0.8",
                      "--top-k", "20", "--top-p", "0.9", "--seed", "3", "--stop", "e", "--stop", "a", "--batch-size", "1",
                      "--device", "cpu", "--json", folder["sampled.json"]);
        AssertJson(Expected(model, sampled), folder["sampled.json"]);
    }

    [Fact]
    public void GenerateRefusesBadInputInOneLine()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Dense(folder);
        File.WriteAllLines(folder["bad.jsonl"], ["{\"prompt\": \"fine\"}", "{\"text\": \"no prompt key\"}"]);
        foreach (var (args, message) in new (string[], string)[]
        {
            (["--prompt", "a", "--prompts", folder["bad.jsonl"]], "one of the two"),
            ([], "one of the two"),
            (["--prompts", folder["bad.jsonl"]], "bad.jsonl:2"),
            (["--prompt", "a", "--top-p", "2"], "top-p"),
        })
        {
            var result = CliProcess.Run(["generate", model, "--device", "cpu", .. args]);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains(message, result.Stderr);
        }
    }

    static IReadOnlyList<GeneratedText> Expected(string path, GenerationOptions options)
    {
        using var checkpoint = Checkpoint.Open(path);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        return TextGeneration.Generate(model, Tokenizer.Load(path), Prompts, options);
    }

    static void AssertJson(IReadOnlyList<GeneratedText> expected, string path)
    {
        var rows = JsonNode.Parse(File.ReadAllText(path))!.AsArray();
        Assert.Equal(expected.Count, rows.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(Prompts[i], (string)rows[i]!["prompt"]!);
            Assert.Equal(expected[i].Text, (string)rows[i]!["text"]!);
            Assert.Equal(expected[i].TokenIds, rows[i]!["token_ids"]!.AsArray().Select(n => (int)n!).ToArray());
            Assert.Equal(expected[i].StopReason, (string)rows[i]!["stop_reason"]!);
        }
    }
}
