using System.Text.Json;
using Qzo.Diffusion.Pipelines;

namespace Qzo.Tests.Cli;

/// <summary>A synthesized tiny SD3 pipeline written by the real `qzo synth --architecture sd3`, shared by the CLI tests.</summary>
public sealed class SynthesizedSd3Cli : IDisposable
{
    readonly TempFolder _folder = new();
    public string Pipeline => _folder["sd3"];
    /// <summary>What `qzo synth` said (CliProcess.Result as text) and its exit code.</summary>
    public string Synth { get; }
    public int SynthExitCode { get; }

    public SynthesizedSd3Cli()
    {
        var r = CliProcess.Run("synth", "--architecture", "sd3", "--out", Pipeline);
        (Synth, SynthExitCode) = (r.ToString(), r.ExitCode);
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>`qzo synth --architecture sd3` and `qzo imagine` end to end, as the README runs them, and their refusals.</summary>
public sealed class Sd3CliTests(SynthesizedSd3Cli sd3) : IClassFixture<SynthesizedSd3Cli>
{
    [Fact]
    public void SynthWritesTheTinyPipeline()
    {
        Assert.True(sd3.SynthExitCode == 0, sd3.Synth);
        Assert.Contains("StableDiffusion3Pipeline 'tiny'", sd3.Synth);
        Assert.Contains("default image 64×64", sd3.Synth);
        var folder = Sd3PipelineFolder.Open(sd3.Pipeline);
        Assert.NotNull(folder.TextEncoder3);
    }

    [Fact]
    public void ImagineWritesOnePngPerPromptAContactSheetAndASummary()
    {
        using var temp = new TempFolder();
        string output = temp["images"];
        var r = CliProcess.Ok("imagine", sd3.Pipeline, "--prompt", "a red fox in the snow", "--prompt", "a lighthouse", "--size", "64",
                              "--steps", "3", "--seed", "5", "--out", output, "--device", "cpu");
        Assert.Contains("2 image(s) on cpu", r.Stdout);
        Assert.Equal(["000-seed5.png", "001-seed6.png", "contact-sheet.png", "imagine.json"],
                     Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal((64, 64), Png.Size(Path.Combine(output, "000-seed5.png")));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(output, "000-seed5.png")), File.ReadAllBytes(Path.Combine(output, "001-seed6.png")));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "imagine.json")));
        var images = summary.RootElement.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(["a red fox in the snow", "a lighthouse"], images.Select(i => i.GetProperty("prompt").GetString()));
        Assert.Equal(3, summary.RootElement.GetProperty("steps").GetInt32());
        Assert.True(summary.RootElement.GetProperty("t5").GetBoolean());
        var stepSeconds = summary.RootElement.GetProperty("step_seconds").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.True(stepSeconds.Count > 0 && stepSeconds.Count % 3 == 0 && stepSeconds.All(t => t > 0), string.Join(", ", stepSeconds));
        double loop = summary.RootElement.GetProperty("denoise_loop_seconds").GetDouble();
        double load = summary.RootElement.GetProperty("transformer_load_seconds").GetDouble();
        Assert.True(load > 0 && loop + load <= summary.RootElement.GetProperty("denoise_seconds").GetDouble() + 1e-6, $"{load} + {loop}");
    }

    [Theory]
    [InlineData("no-index", "model_index.json")]
    [InlineData("size", "must be a positive multiple of 16")]
    [InlineData("no-prompt", "--prompt")]
    public void ImagineRefusesBadInputWithOneLineAndWritesNothing(string problem, string mentioned)
    {
        using var temp = new TempFolder();
        string model = sd3.Pipeline;
        if (problem == "no-index")
        {
            model = temp["empty-pipeline"];
            Directory.CreateDirectory(model);
        }
        string[] prompt = problem == "no-prompt" ? [] : ["--prompt", "a fox"];
        string size = problem == "size" ? "50" : "64";
        var r = CliProcess.Run(["imagine", model, .. prompt, "--size", size, "--steps", "2", "--out", temp["images"], "--device", "cpu"]);
        CliAssert.FailsWithOneLine(r, mentioned);
        Assert.False(Directory.Exists(temp["images"]));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(temp.Path), p => !p.EndsWith("empty-pipeline", StringComparison.Ordinal));
    }

    [Fact]
    public void SynthSd3TakesItsOwnOptionsAndRefusesTheLanguageModelOnes()
    {
        using var temp = new TempFolder();
        var r = CliProcess.Ok("synth", "--architecture", "SD3", "--preset", "tiny", "--no-t5", "--dtype", "fp32", "--seed", "3",
                              "--out", temp["no-t5"]);
        Assert.Contains("CLIP-L and CLIP-G text encoders (no T5)", r.Stdout);
        Assert.Contains("of fp32 weights", r.Stdout);
        Assert.Null(Sd3PipelineFolder.Open(temp["no-t5"]).TextEncoder3);

        CliAssert.FailsWithOneLine(CliProcess.Run("synth", "--architecture", "sd3", "--hidden", "64", "--vocab", "512", "--out", temp["x"]),
                                   "--hidden, --vocab are options of the language-model architectures", "--preset");
        CliAssert.FailsWithOneLine(CliProcess.Run("synth", "--architecture", "llama", "--preset", "tiny", "--out", temp["x"]),
                                   "--preset applies to --architecture sd3 only");
        CliAssert.FailsWithOneLine(CliProcess.Run("synth", "--architecture", "sd3", "--preset", "huge", "--out", temp["x"]),
                                   "--preset 'huge'", "tiny, medium, large");
        CliAssert.FailsWithOneLine(CliProcess.Run("synth", "--architecture", "sd4", "--out", temp["x"]), "'sd4'", "sd3");
        CliAssert.FailsWithOneLine(CliProcess.Run("synth", "--architecture", "sd3", "--out", temp["no-t5"]), "--force");
        Assert.False(Directory.Exists(temp["x"]));

        var help = CliProcess.Ok("synth", "--help").Stdout;
        Assert.Contains("Stable Diffusion 3.5 pipeline folder", help);
        Assert.Contains("--preset", help);
        Assert.Contains("--no-t5", help);
    }
}
