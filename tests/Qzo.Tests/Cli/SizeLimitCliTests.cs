using System.Text.RegularExpressions;
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

    static string CleanFailure(CliProcess.Result r)
    {
        Assert.True(r.ExitCode == 1, r.ToString());
        var lines = r.Stderr.Trim().Split('\n');
        Assert.True(lines.Length == 1, $"expected one line, got:\n{r.Stderr}");
        Assert.StartsWith("error: ", lines[0]);
        return lines[0];
    }

    static void AssertRefusedSynth(params string[] shape)
    {
        using var folder = new TempFolder();
        string output = Path.Combine(folder.Path, "deeper", "model");
        var line = CleanFailure(CliProcess.Run(["synth", "--out", output, .. shape]));
        Assert.StartsWith("error: synth: ", line);
        Assert.Matches(TwoFigures(), line);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void SynthWithAHiddenSizeOfABillionIsRefusedUpFront() => AssertRefusedSynth("--hidden", "1000000000");

    [Fact]
    public void SynthWithAMillionLayersIsRefusedUpFront() => AssertRefusedSynth("--layers", "1000000");

    [Fact]
    public void SynthWithAHugeVocabularyIsRefusedUpFront() => AssertRefusedSynth("--vocab", "2000000000", "--hidden", "4096", "--heads", "32");

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
    public void SynthWithInconsistentShapeOptionsNamesTheOption(string option, params string[] args)
    {
        using var folder = new TempFolder();
        var line = CleanFailure(CliProcess.Run(["synth", "--out", folder["model"], .. args]));
        Assert.Contains(option, line);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void BenchWithSequencesNoMemoryHoldsIsRefusedBeforeSynthesizing()
    {
        var line = CleanFailure(CliProcess.Run("bench", "--shape", "tiny", "--device", "cpu", "--batch", "1", "--seq", "2147483647"));
        Assert.StartsWith("error: bench: ", line);
        Assert.Matches(TwoFigures(), line);
    }

    [Fact]
    public void GenerateWithAKvCacheNoMemoryHoldsIsRefusedBeforeAllocatingIt()
    {
        using var folder = new TempFolder();
        var r = CliProcess.Run("generate", TinyModels.Dense(folder), "--prompt", "hello", "--max-new-tokens", "2000000000", "--device", "cpu");
        var line = CleanFailure(r);
        Assert.StartsWith("error: generate: ", line);
        Assert.Matches(TwoFigures(), line);
    }
}
