using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Qzo.Cli.Commands;
using Qzo.Cli.Runs;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Training;
using Qzo.Tests.Diffusion.Training;
using Qzo.Training;

namespace Qzo.Tests.Cli;

/// <summary>
/// Sd3FinetuneJob's run folder (the files a task run has, plus sample grids and the tuned pipeline), its resume, and the
/// settings the CLI options resolve to (the paper's defaults, the released script's preset).
/// </summary>
public sealed class Sd3FinetuneJobTests(TinyNf4Sd3 tiny) : IClassFixture<TinyNf4Sd3>
{
    static Sd3FinetuneSettings Small(int steps) => new()
    {
        Optimizer = new ZoOptions { Steps = steps, BatchSize = 3, LearningRate = 3e-3f, EvalEvery = 2, Seed = 4 },
        CheckpointEvery = 2, SampleEvery = 2, SampleSteps = 2, SampleCount = 2, SampleSeeds = [0, 7], ValidationLimit = 4, Device = "cpu",
    };

    [Fact]
    public void ARunWritesTheRunFolderSampleGridsAndTheTunedPipeline()
    {
        string run = tiny.NewFolder("run");
        Directory.CreateDirectory(run);
        JsonObject results;
        using (var backend = new CpuBackend())
            results = Sd3FinetuneJob.Start(tiny.Pipeline, tiny.Train, tiny.Validation, Small(4), run, backend,
                                           new JsonObject { ["cache"] = "somewhere" }, quiet: true);

        foreach (var file in new[] { "config.json", "metrics.jsonl", "results.json", "state.safetensors", "loss.png", "validation.png",
                                     "memory.png", "samples/prompts.json", "model/model_index.json" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} is missing");
        var config = RunFolder.ReadJson(run, RunFolder.Config);
        Assert.Equal("sd3", (string?)config["kind"]);
        Assert.Equal("somewhere", (string?)config["data"]?["cache"]);
        var lines = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(4, lines.Count(l => (string?)l["type"] == "step"));
        Assert.Equal([0, 2, 4], lines.Where(l => (string?)l["type"] == "eval").Select(l => (int)l["step"]!));
        Assert.Equal(["samples/step-000000.png", "samples/step-000002.png", "samples/step-000004.png"],
                     results["samples"]!.AsArray().Select(p => (string)p!));
        foreach (var step in new[] { "000000", "000002", "000004" })
            foreach (var image in new[] { "p0-s0.png", "p0-s7.png", "p1-s0.png", "p1-s7.png" })
                Assert.True(File.Exists(Path.Combine(run, "samples", $"step-{step}", image)), $"step-{step}/{image} is missing");
        var sheet = Qzo.Imaging.ImageFiles.Read(Path.Combine(run, "samples", "step-000004.png"));
        Assert.Equal((2 * 64 + 3 * 8, 2 * 64 + 3 * 8), (sheet.Width, sheet.Height));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(run, "samples", "step-000000", "p0-s0.png")),
                        File.ReadAllBytes(Path.Combine(run, "samples", "step-000000", "p0-s7.png")));
        Assert.Equal(4, (int)results["validation_before"]!["examples"]!);
        Assert.True((long)results["peak_bytes"]!["Total"]! > 0);
        Assert.True((long)results["sample_peak_bytes"]!["Total"]! > (long)results["peak_bytes"]!["Total"]!,
                    "rendering loads the VAE beside the transformer");
        Sd3PipelineFolder.Open(Path.Combine(run, "model"));
        Assert.Contains("| 4 |", RunReport.Markdown([run]));
        Assert.Throws<QzoException>(() => Sd3FinetuneJob.ReadSettings(run));
    }

    [Fact]
    public void AResumedRunEndsAsTheUninterruptedOne()
    {
        string whole = tiny.NewFolder("whole"), cut = tiny.NewFolder("cut");
        Directory.CreateDirectory(whole);
        Directory.CreateDirectory(cut);
        using (var backend = new CpuBackend())
        {
            Sd3FinetuneJob.Start(tiny.Pipeline, tiny.Train, tiny.Validation, Small(4), whole, backend, quiet: true);
            // A run of 4 steps stopped after its step-2 checkpoint: the same run, cut short, with its results taken away.
            Sd3FinetuneJob.Start(tiny.Pipeline, tiny.Train, tiny.Validation, Small(4) with
                { Optimizer = Small(4).Optimizer with { Steps = 2 } }, cut, backend, quiet: true);
        }
        var config = RunFolder.ReadJson(cut, RunFolder.Config);
        config["settings"]!["optimizer"]!["steps"] = 4;
        RunFolder.WriteJson(cut, RunFolder.Config, config);
        File.Delete(Path.Combine(cut, RunFolder.Results));
        Assert.Equal(Small(4).Optimizer, Sd3FinetuneJob.ReadSettings(cut).Settings.Optimizer);

        using (var backend = new CpuBackend())
        {
            var fewer = tiny.Train.Take(10).ToList();
            Assert.Throws<QzoException>(() => Sd3FinetuneJob.Resume(cut, fewer, tiny.Validation, backend, quiet: true));
            var results = Sd3FinetuneJob.Resume(cut, tiny.Train, tiny.Validation, backend, quiet: true);
            Assert.True((bool)results["resumed"]!);
        }
        static IEnumerable<string> Metrics(string run) => File.ReadLines(Path.Combine(run, RunFolder.Metrics))
            .Select(l => Regex.Replace(l, "\"elapsed_s\":[^,}]*", ""));
        Assert.Equal(Metrics(whole), Metrics(cut));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "model", "transformer", "diffusion_pytorch_model.safetensors")),
                     File.ReadAllBytes(Path.Combine(cut, "model", "transformer", "diffusion_pytorch_model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "samples", "step-000004", "p1-s7.png")),
                     File.ReadAllBytes(Path.Combine(cut, "samples", "step-000004", "p1-s7.png")));
    }

    [Fact]
    public void ThePaperIsTheDefaultAndOneFlagGivesTheReleasedScript()
    {
        var options = new Sd3FinetuneOptions();
        var lr = new Option<float?>("--lr");
        var command = new RootCommand();
        foreach (var option in options.All.Append(lr)) command.Options.Add(option);
        Sd3FinetuneSettings Resolve(params string[] args)
        {
            var parsed = command.Parse(args);
            Assert.Empty(parsed.Errors);
            return options.Resolve(parsed, new Sd3OptimizerFlags { LearningRate = parsed.GetValue(lr) });
        }

        var paper = Resolve();
        Assert.Equal((16, 1e-6f, 1e-3f, 20_000, (float?)100f, 0f),
                     (paper.Optimizer.BatchSize, paper.Optimizer.LearningRate, paper.Optimizer.Epsilon, paper.Optimizer.Steps,
                      paper.Optimizer.ClipThreshold, paper.Optimizer.ScaleFloor));
        Assert.Equal((Sd3ObjectiveKind.FlowMatching, Sd3WeightingScheme.LogitNormal, 0f, 1f, 1.29f, false),
                     (paper.Objective.Kind, paper.Objective.Weighting, paper.Objective.LogitMean, paper.Objective.LogitStd,
                      paper.Objective.ModeScale, paper.Objective.PreconditionOutputs));
        Assert.False(paper.KeepBest);
        Assert.True(Resolve("--keep-best").KeepBest);
        var released = Resolve("--preset", "qzo-released", "--objective", "qzo-reference");
        Assert.Equal((8, 1e-5f, 10_000, (float?)null, float.NegativeInfinity),
                     (released.Optimizer.BatchSize, released.Optimizer.LearningRate, released.Optimizer.Steps,
                      released.Optimizer.ClipThreshold, released.Optimizer.ScaleFloor));
        Assert.Equal(Sd3ObjectiveKind.QzoReference, released.Objective.Kind);
        Assert.Equal(3e-5f, Resolve("--preset", "qzo-released", "--lr", "3e-5").Optimizer.LearningRate);
        var mode = Resolve("--weighting-scheme", "mode", "--mode-scale", "0.5", "--sample-prompt", "a", "--sample-prompt", "b",
                           "--sample-seeds", "3", "4", "5");
        Assert.Equal((Sd3WeightingScheme.Mode, 0.5f), (mode.Objective.Weighting, mode.Objective.ModeScale));
        Assert.Equal(["a", "b"], mode.SamplePrompts);
        Assert.Equal([3UL, 4UL, 5UL], mode.SampleSeeds);
        Assert.Throws<QzoException>(() => Resolve("--objective", "ddim"));
        Assert.Throws<QzoException>(() => Resolve("--objective", "qzo-reference", "--precondition-outputs"));

        var json = Sd3RunSettingsJson.Write(released);
        var back = Sd3RunSettingsJson.Read(JsonNode.Parse(json.ToJsonString())!, "config.json");
        Assert.Equal(json.ToJsonString(), Sd3RunSettingsJson.Write(back).ToJsonString());
        Assert.Equal(float.NegativeInfinity, back.Optimizer.ScaleFloor);
    }
}
