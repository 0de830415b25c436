using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Tests.Models;
using Qzo.Tests.Tasks;

namespace Qzo.Tests.Cli;

public class TaskCliTests
{
    static JsonObject Json(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    [Fact]
    public void TasksListsEveryBuiltInTaskWithItsKindAndMetric()
    {
        var text = CliProcess.Ok("tasks").Stdout;
        foreach (var task in TaskFixtures.Tasks) Assert.Contains(task, text);
        Assert.Matches(@"squad\s*│\s*generation\s*│\s*f1", text);
        Assert.Matches(@"copa\s*│\s*multiple_choice\s*│\s*accuracy", text);
        var rte = CliProcess.Ok("tasks", "rte").Stdout;
        Assert.Contains("\"dataset\": \"super_glue/rte\"", rte);
        Assert.Contains("Does this mean that", rte);

        // What the pyarrow oracle compares: the rows as read from Parquet are the JSONL export's.
        var rows = CliProcess.Ok("tasks", "squad", "--data", TaskFixtures.Parquet("squad"), "--rows", "validation").Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var exported = File.ReadAllLines(Path.Combine(TaskFixtures.Jsonl("squad"), "validation.jsonl"));
        Assert.Equal(exported.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(exported[i]), JsonNode.Parse(rows[i])), rows[i]);
        var prompt = JsonNode.Parse(
            CliProcess.Ok("tasks", "copa", "--data", TaskFixtures.Jsonl("copa"), "--prompts", "train").Stdout.Split('\n')[0])!;
        Assert.Matches("(because|so)$", (string)prompt["prompt"]!);
        Assert.Equal(2, prompt["candidates"]!.AsArray().Count);
    }

    [Fact]
    public void EvalScoresZeroAndFewShotIntoRunFoldersThatReportReads()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Dense(folder);
        CliProcess.Ok("eval", model, "--task", "sst2", "--data", TaskFixtures.Parquet("sst2"), "--num-train", "60", "--num-dev", "8",
                      "--run", folder["zero"], "--device", "cpu");
        CliProcess.Ok("eval", model, "--task", "sst2", "--data", TaskFixtures.Jsonl("sst2"), "--num-train", "60", "--num-dev", "8",
                      "--run", folder["zero-jsonl"], "--device", "cpu");
        CliProcess.Ok("eval", model, "--task", "sst2", "--data", TaskFixtures.Parquet("sst2"), "--num-train", "60", "--num-dev", "8",
                      "--shots", "2", "--run", folder["two"], "--device", "cpu");
        var zero = Json(Path.Combine(folder["zero"], "results.json"));
        Assert.Equal("zero-shot", (string)zero["method"]!);
        Assert.Equal(32, (int)zero["test"]!["examples"]!);
        Assert.True(JsonNode.DeepEquals(zero["test"], Json(Path.Combine(folder["zero-jsonl"], "results.json"))["test"]),
            "Parquet and JSONL exports of the same rows must score the same");
        Assert.Equal(32, File.ReadLines(Path.Combine(folder["zero"], "predictions.jsonl")).Count());
        var config = Json(Path.Combine(folder["two"], "config.json"));
        Assert.Equal(2, (int)config["evaluation"]!["shots"]!);
        Assert.Equal("few-shot", (string)config["method"]!);
        Assert.Equal(60, (int)config["facts"]!["examples"]!["train"]!);

        var report = CliProcess.Ok("report", folder["zero"], folder["two"]).Stdout;
        Assert.Contains("| run | method | model | task | metric |", report);
        Assert.Contains(
            $"| zero | zero-shot | dense (llama, BF16) | sst2 | accuracy | - | {100 * (double)zero["test"]!["value"]!:F1} | 0 |", report);
        Assert.Contains("| two | few-shot (2) |", report);
    }

    [Fact]
    public void BadDataStopsWithOneLineNamingFileRowAndColumn()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Dense(folder);
        Directory.CreateDirectory(folder["data"]);
        File.WriteAllText(Path.Combine(folder["data"], "train.jsonl"),
            """{"premise": "p", "hypothesis": "h", "idx": 0, "label": 0}""" + "\n");
        File.WriteAllText(Path.Combine(folder["data"], "validation.jsonl"), """{"premise": "p", "idx": 0, "label": 0}""" + "\n");
        var missing = CliProcess.Run("eval", model, "--task", "rte", "--data", folder["data"], "--device", "cpu");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"error: {Path.Combine(folder["data"], "validation.jsonl")}:1, column 'hypothesis': missing", missing.Stderr.Trim());
        var unlabelled = CliProcess.Run("eval", model, "--task", "sst2", "--data", TaskFixtures.Parquet("sst2"), "--sampling", "splits",
                                        "--device", "cpu");
        Assert.Equal(1, unlabelled.ExitCode);
        Assert.Contains("test-00000-of-00001.parquet: row 0, column 'label': has label -1", unlabelled.Stderr);
    }

    [Fact]
    public void QzoFinetuneWritesTheRunFolderWithTheTasksDefaultsResolved()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        CliProcess.Ok("finetune", model, "--task", "rte", "--data", TaskFixtures.Parquet("rte"), "--num-train", "48", "--num-dev", "8",
                      "--num-eval", "8", "--run", folder["run"], "--steps", "6", "--eval-every", "3", "--batch-size", "4", "--lr", "5e-3",
                      "--checkpoint-every", "3", "--device", "cpu");
        string run = folder["run"];
        var config = Json(Path.Combine(run, "config.json"));
        var optimizer = config["optimizer"]!;
        Assert.Equal("qzo", (string)config["method"]!);
        Assert.Equal((5e-3f, 1e-3f, 100f, 6),
            ((float)optimizer["lr"]!, (float)optimizer["eps"]!, (float)optimizer["clip"]!, (int)optimizer["steps"]!));
        Assert.Equal("rte", (string)config["task"]!["name"]!);
        Assert.Equal((48, 8, 8), ((int)config["facts"]!["examples"]!["train"]!, (int)config["facts"]!["examples"]!["dev"]!,
            (int)config["facts"]!["examples"]!["test"]!));

        var lines = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(6, lines.Count(l => (string)l["type"]! == "step"));
        var evals = lines.Where(l => (string)l["type"]! == "eval").ToList();
        Assert.Equal([0, 3, 6], evals.Select(e => (int)e["step"]!));
        Assert.All(evals, e => Assert.Equal("accuracy", (string)e["metric"]!));

        var results = Json(Path.Combine(run, "results.json"));
        double best = evals.Max(e => (double)e["value"]!);
        int bestStep = (int)evals.First(e => (double)e["value"]! == best)["step"]!;
        Assert.Equal(bestStep, (int)results["best_step"]!);
        Assert.Equal(best, (double)results["validation_best"]!["value"]!);
        Assert.Equal(8, (int)results["test"]!["examples"]!);
        Assert.True((long)results["peak_bytes"]!["QuantizedWeights"]! > 0);
        var phases = results["phase_seconds"]!.AsObject();
        Assert.Equal(["load", "test_before", "setup", "train", "test", "save"], phases.Select(p => p.Key));
        Assert.All(phases, p => Assert.True((double)p.Value! >= 0, $"{p.Key}: {p.Value}"));
        Assert.True((double)phases["load"]! > 0 && (double)phases["test_before"]! > 0 && (double)phases["save"]! > 0);
        Assert.InRange((double)phases["train"]! - (double)results["train_seconds"]!, -0.002, 0.5);
        Assert.InRange(phases.Sum(p => (double)p.Value!), 0.9 * (double)results["wall_seconds"]!, (double)results["wall_seconds"]! + 0.01);
        Assert.Equal((900, 520), Png.Size(Path.Combine(run, "loss.png")));
        Assert.Equal((900, 520), Png.Size(Path.Combine(run, "validation.png")));
        Assert.Equal((900, 520), Png.Size(Path.Combine(run, "memory.png")));
        using var tuned = CheckpointTensors.Open(Path.Combine(run, "model"));
        Assert.Contains("model.layers.0.self_attn.q_proj.scales", tuned.Names);

        var again = CliProcess.Run("finetune", model, "--task", "rte", "--data", TaskFixtures.Parquet("rte"), "--run", run, "--steps", "1",
                                   "--device", "cpu");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--resume", again.Stderr);
    }

    [Fact]
    public void MezoAndQzoOnSquadTrainOnAnswerTokensAndReportF1()
    {
        using var folder = new TempFolder();
        string dense = TinyModels.Dense(folder);
        string gptq = TinyModels.Gptq(folder);
        string[] common = ["--task", "squad", "--data", TaskFixtures.Jsonl("squad"), "--num-train", "8", "--num-dev", "2",
                           "--num-eval", "3", "--steps", "2", "--batch-size", "2", "--max-new-tokens", "3", "--no-save", "--device", "cpu"];
        CliProcess.Ok(["finetune", dense, "--method", "mezo", "--lr", "1e-4", "--run", folder["mezo"], .. common]);
        CliProcess.Ok(["finetune", gptq, "--run", folder["qzo"], .. common]);
        var mezo = Json(Path.Combine(folder["mezo"], "config.json"))["optimizer"]!;
        Assert.Equal("mezo", (string)mezo["method"]!);
        Assert.Null(mezo["clip"]); // MeZO has no clipping; the task's mezo defaults say so
        Assert.Equal(1e-7f, (float)Json(Path.Combine(folder["qzo"], "config.json"))["optimizer"]!["lr"]!); // the paper's, from the task
        foreach (var run in new[] { "mezo", "qzo" })
        {
            var results = Json(Path.Combine(folder[run], "results.json"));
            Assert.Equal("f1", (string)results["metric"]!);
            Assert.Equal((double)results["test"]!["f1"]!, (double)results["test"]!["value"]!);
            Assert.NotNull(results["test"]!["em"]);
            Assert.False(Directory.Exists(Path.Combine(folder[run], "model")));
        }
        Assert.True((long)Json(Path.Combine(folder["mezo"], "results.json"))["trainable_values"]! >
                    10 * (long)Json(Path.Combine(folder["qzo"], "results.json"))["trainable_values"]!);
    }
}
