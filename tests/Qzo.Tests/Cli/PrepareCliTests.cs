using Qzo.Diffusion.Data;

namespace Qzo.Tests.Cli;

/// <summary>`qzo synth --dataset styled-shapes` and `qzo prepare` end to end on the tiny pipeline, as a user runs them.</summary>
public sealed class PrepareCliTests(SynthesizedSd3Cli sd3) : IClassFixture<SynthesizedSd3Cli>
{
    [Fact]
    public void PrepareCachesTheSyntheticDatasetOnceAndKnowsWhenItIsUpToDate()
    {
        Assert.True(sd3.SynthExitCode == 0, sd3.Synth);
        using var temp = new TempFolder();
        var synth = CliProcess.Ok("synth", "--dataset", "styled-shapes", "--count", "10", "--resolution", "48", "--out", temp["shapes"]);
        Assert.Contains("wrote", synth.Stdout);
        Assert.Equal(11, Directory.GetFiles(temp["shapes"]).Length);

        string[] prepare = ["prepare", sd3.Pipeline, "--images", temp["shapes"], "--out", temp["cache"], "--resolution", "32",
                            "--random-flip", "--max-sequence-length", "16", "--device", "cpu"];
        var r = CliProcess.Ok(prepare);
        Assert.Contains("16 training examples (8 images, each also mirrored), 2 validation", r.Stdout);
        Assert.Contains("latents 16×4×4", r.Stdout);
        Assert.Contains("prompt embeddings 93×96 (T5 16 tokens", r.Stdout);
        using (var cache = ImageCaptionCache.Open(temp["cache"]))
        {
            Assert.Equal(16, cache.Train.Count);
            Assert.EndsWith("in the qzo style", cache.Validation[1].Caption);
        }

        var again = CliProcess.Ok(prepare);
        Assert.Contains("is up to date", again.Stdout);
        var other = CliProcess.Run([.. prepare, "--no-t5"]);
        CliAssert.FailsWithOneLine(other, "t5: true → false", "--force");
        CliProcess.Ok([.. prepare, "--no-t5", "--force"]);
        Assert.False(File.Exists(Path.Combine(temp["cache"], "t5.safetensors")));
    }

    [Fact]
    public void ABadImageIsOneLineNamingItAndNothingIsWritten()
    {
        Assert.True(sd3.SynthExitCode == 0, sd3.Synth);
        using var temp = new TempFolder();
        CliProcess.Ok("synth", "--dataset", "styled-shapes", "--count", "4", "--resolution", "32", "--out", temp["shapes"]);
        string bad = Path.Combine(temp["shapes"], "00002.png");
        File.WriteAllText(bad, "not a picture");
        var r = CliProcess.Run("prepare", sd3.Pipeline, "--images", temp["shapes"], "--out", temp["cache"], "--resolution", "32",
                               "--device", "cpu");
        CliAssert.FailsWithOneLine(r, bad, "--skip-bad-images");
        Assert.False(Directory.Exists(temp["cache"]));
        var odd = CliProcess.Run("prepare", sd3.Pipeline, "--images", temp["shapes"], "--out", temp["cache"], "--resolution", "40");
        CliAssert.FailsWithOneLine(odd, "--resolution 40", "multiple of 16");
    }

    [Fact]
    public void HelpExplainsTheCache()
    {
        var help = CliProcess.Ok("prepare", "--help").Stdout;
        foreach (var option in new[] { "--images", "--out", "--resolution", "--caption-column", "--image-column", "--filter",
                                       "--random-flip", "--validation-fraction", "--validation", "--max-sequence-length", "--no-t5",
                                       "--skip-bad-images", "--device", "--force" })
            Assert.Contains(option, help);
        Assert.Contains("mean and std", help);
        Assert.Contains("styled-shapes", CliProcess.Ok("synth", "--help").Stdout);
    }
}
