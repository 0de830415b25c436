using Qzo.Compute.Cuda;
using Qzo.Compute.Cuda.Native;
using Qzo.IO;

namespace Qzo.Tests.Cli;

/// <summary>What the command calls itself, what `--device cuda` says on a machine without a GPU, and its completions.</summary>
public class CommandNameTests
{
    [Fact]
    public void HelpAndUsageNameTheCommandQzo()
    {
        var help = CliProcess.Ok("synth", "--help");
        Assert.Contains("  qzo synth [options]", help.Stdout);
        Assert.DoesNotContain("Qzo.Cli", help.Stdout);
    }

    [Fact]
    public void DeviceCudaWithoutAGpuSaysWhyInOneLine()
    {
        using var folder = new TempFolder();
        CliProcess.Ok("synth", "--out", folder["m"], "--hidden", "32", "--layers", "1", "--heads", "2", "--vocab", "320");
        var r = CliProcess.Run("generate", folder["m"], "--prompt", "a", "--max-new-tokens", "1", "--device", "cuda");
        if (CudaBackend.IsCudaAvailable())
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            return;
        }
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: --device cuda: no CUDA device found ({NativeLibraries.DriverState()})", r.Stderr.TrimEnd('\n'));
    }

    [Fact]
    public void TheSuggestDirectiveCompletesVerbsOptionsAndDevices()
    {
        static string[] Suggest(string line) =>
            CliProcess.Ok($"[suggest:{line.Length}]", line).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("synth", Suggest("qzo sy"));
        Assert.DoesNotContain("finetune", Suggest("qzo sy"));
        Assert.Contains("--architecture", Suggest("qzo synth --"));
        Assert.Equal(["auto", "cpu", "cuda"], Suggest("qzo generate m --device "));
    }
}
