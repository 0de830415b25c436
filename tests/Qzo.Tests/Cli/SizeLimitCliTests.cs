using System.Text.RegularExpressions;
using Qzo.Models.Architectures;
using Qzo.Tests.Models;

namespace Qzo.Tests.Cli;

/// <summary>
/// Shapes no machine could hold and inconsistent shape options (issue 12, item 16): one `error:` line stating both figures
/// (or naming the option), exit 1, checked before anything is allocated or written.
/// </summary>
public partial class SizeLimitCliTests
{
    [GeneratedRegex(@"\d+(\.\d+)? [KMGTPE]iB.*\d+(\.\d+)? [KMGTPE]iB")]
    private static partial Regex TwoFigures();

    static void AssertRefusedSynth(params string[] shape)
    {
        using var folder = new TempFolder();
        string output = Path.Combine(folder.Path, "deeper", "model");
        var line = CliAssert.FailsWithOneLine(CliProcess.Run(["synth", "--out", output, .. shape]));
        Assert.StartsWith("error: synth: ", line);
        Assert.Matches(TwoFigures(), line);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void SynthWithAHiddenSizeOfABillionIsRefusedUpFront() => AssertRefusedSynth("--hidden", "1000000000");

    [Fact]
    public void SynthWithAMillionLayersIsRefusedUpFront() => AssertRefusedSynth("--layers", "1000000");

    [Fact]
    public void SynthWithAHugeVocabularyIsRefusedUpFront() =>
        AssertRefusedSynth("--vocab", "2000000000", "--hidden", "4096", "--heads", "32");

    [Fact]
    public void SynthWithHeadDimTimesHeadsPastIntIsRefusedUpFront() =>
        AssertRefusedSynth("--heads", "65536", "--head-dim", "65536", "--hidden", "256", "--kv-heads", "1");

    [Theory]
    [InlineData("--kv-heads", "--kv-heads", "0")]
    [InlineData("--head-dim", "--head-dim", "0")]
    [InlineData("--intermediate", "--intermediate", "0")]
    [InlineData("--max-positions", "--architecture", "opt", "--max-positions", "-5")]
    [InlineData("--heads", "--hidden", "100", "--heads", "8")]
    [InlineData("--kv-heads", "--kv-heads", "3")]
    [InlineData("--head-dim", "--hidden", "64", "--heads", "4", "--head-dim", "7")]
    [InlineData("--head-dim", "--hidden", "36", "--heads", "4")]
    [InlineData("--vocab", "--vocab", "2")]
    public void SynthWithInconsistentShapeOptionsNamesTheOption(string option, params string[] args)
    {
        using var folder = new TempFolder();
        var line = CliAssert.FailsWithOneLine(CliProcess.Run(["synth", "--out", folder["model"], .. args]));
        Assert.Contains(option, line);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void BenchWithSequencesNoMemoryHoldsIsRefusedBeforeSynthesizing()
    {
        var line = CliAssert.FailsWithOneLine(
            CliProcess.Run("bench", "--shape", "tiny", "--device", "cpu", "--batch", "1", "--seq", "2147483647"));
        Assert.StartsWith("error: bench: ", line);
        Assert.Matches(TwoFigures(), line);
    }

    [Fact]
    public void GenerateWithAKvCacheNoMemoryHoldsIsRefusedBeforeAllocatingIt()
    {
        using var folder = new TempFolder();
        var r = CliProcess.Run("generate", TinyModels.Dense(folder), "--prompt", "hello", "--max-new-tokens", "2000000000",
                               "--device", "cpu");
        var line = CliAssert.FailsWithOneLine(r);
        Assert.StartsWith("error: generate: ", line);
        Assert.Matches(TwoFigures(), line);
    }

    [Fact]
    public void SampleLongerThanLearnedPositionsIsRefusedBeforeSampling()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Dense(folder, ArchitectureRegistry.Opt, "opt");
        string output = folder["samples.jsonl"];
        var line = CliAssert.FailsWithOneLine(
            CliProcess.Run("sample", model, "--out", output, "--length", "200", "--count", "1", "--device", "cpu"));
        Assert.Contains("200 tokens exceed the model's 64 positions", line);
        Assert.False(File.Exists(output));
    }
}
