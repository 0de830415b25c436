using Qzo.Diffusion.Pipelines;

namespace Qzo.Tests.Cli;

/// <summary>
/// Text-to-image QZO as a user runs it: synth a pipeline, quantize its transformer to NF4, synth a styled dataset, prepare
/// the cache, `finetune --images`; the run folder holds metrics, sample grids and a tuned pipeline that imagine loads.
/// </summary>
public sealed class ImageFinetuneCliTests(SynthesizedSd3Cli sd3) : IClassFixture<SynthesizedSd3Cli>
{
    [Fact]
    public void FinetuneOnAPreparedCacheWritesARunWithSamplesAndATunedPipeline()
    {
        Assert.True(sd3.SynthExitCode == 0, sd3.Synth);
        using var temp = new TempFolder();
        CliProcess.Ok("quantize", sd3.Pipeline, temp["nf4"], "--method", "nf4");
        CliProcess.Ok("synth", "--dataset", "styled-shapes", "--count", "6", "--resolution", "32", "--out", temp["shapes"]);
        CliProcess.Ok("prepare", temp["nf4"], "--images", temp["shapes"], "--out", temp["cache"], "--resolution", "32",
                      "--max-sequence-length", "16", "--device", "cpu");
        string run = temp["run"];
        var r = CliProcess.Ok("finetune", temp["nf4"], "--images", temp["cache"], "--run", run, "--steps", "4", "--batch-size", "2",
                              "--lr", "1e-3", "--eval-every", "2", "--sample-every", "4", "--sample-steps", "2",
                              "--sample-guidance", "2", "--device", "cpu"); // guided: the cache's empty prompt is the negative
        Assert.Contains("validation", r.Stdout);
        var steps = File.ReadLines(Path.Combine(run, "metrics.jsonl"))
            .Count(l => l.StartsWith("{\"type\":\"step\"", StringComparison.Ordinal));
        Assert.Equal(4, steps);
        Assert.True(File.Exists(Path.Combine(run, "results.json")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, "samples"), "*.png", SearchOption.AllDirectories));
        var tuned = Sd3PipelineFolder.Open(Path.Combine(run, "model"));
        Assert.NotNull(tuned.Transformer);
        CliProcess.Ok("imagine", Path.Combine(run, "model"), "--prompt", "a red circle", "--size", "32", "--steps", "2", "--out",
                      temp["images"], "--device", "cpu");

        var finished = CliProcess.Run("finetune", "--resume", run);
        CliAssert.FailsWithOneLine(finished, "has finished");
    }

    [Fact]
    public void ImagesMustBeAPreparedCache()
    {
        Assert.True(sd3.SynthExitCode == 0, sd3.Synth);
        using var temp = new TempFolder();
        CliProcess.Ok("synth", "--dataset", "styled-shapes", "--count", "2", "--resolution", "32", "--out", temp["shapes"]);
        var r = CliProcess.Run("finetune", sd3.Pipeline, "--images", temp["shapes"], "--run", temp["run"], "--device", "cpu");
        CliAssert.FailsWithOneLine(r, "qzo prepare", "not an image–caption cache");
        Assert.False(Directory.Exists(temp["run"]));
        var stray = CliProcess.Run("finetune", sd3.Pipeline, "--images", temp["shapes"], "--run", temp["run"], "--out", temp["out"]);
        CliAssert.FailsWithOneLine(stray, "--out does not apply to --images");
        Assert.False(Directory.Exists(temp["out"]));
    }
}
