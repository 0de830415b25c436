using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Qzo.Tests.Models;
using Qzo.Tests.Tasks;

namespace Qzo.Tests.Cli;

/// <summary>
/// Nothing a user owns is ever destroyed (issue 12): an output never equals, contains or lies inside an input; special
/// files and links are written through, never replaced; two commands never write one output at once; an interrupted
/// replacement is recovered; every output is checked before any work starts.
/// </summary>
public class OutputSafetyCliTests
{
    static string Digest(string folder) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n",
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(folder, f)}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}")))));

    static void Synth(string output, params string[] more) =>
        CliProcess.Ok(["synth", "--out", output, "--hidden", "32", "--layers", "1", "--heads", "2", "--vocab", "320", .. more]);

    [Fact]
    public void QuantizeRefusesToWriteOverItsInputHoweverItIsSpelled()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Dense(folder);
        File.CreateSymbolicLink(folder["link"], model);
        string before = Digest(model);
        foreach (var output in new[]
                 { model, model + "/.", folder.Path + "/./dense", folder["link"], folder.Path, Path.Combine(model, "q") })
        {
            var r = CliProcess.Run("quantize", model, output, "--force");
            CliAssert.FailsWithOneLine(r, "an output may never equal, contain or lie inside an input");
            Assert.Equal(before, Digest(model));
        }
        // Through the link as the input, too.
        CliAssert.FailsWithOneLine(CliProcess.Run("quantize", folder["link"], model, "--force"), "is the input checkpoint");
        Assert.Equal(before, Digest(model));
    }

    [Fact]
    public void FinetuneNeverWritesWhereItsInputsAre()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder["parent"]);
        string model = Path.Combine(folder["parent"], "gptq");
        Directory.Move(TinyModels.Gptq(folder), model);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);
        string before = Digest(model);

        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--out", folder["parent"], "--force"),
                                   "contains the model");
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--out", folder.Path, "--force"),
                                   "contains the model");
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--out", model, "--force"),
                                   "is the model");
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "1",
                                                  "--metrics", Path.Combine(model, "m.jsonl")),
                                   "lies inside the model");
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--out", folder["o"],
                                                  "--json", data, "--force"),
                                   "is the training data");
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--task", "sst2", "--data", TaskFixtures.Parquet("sst2"),
                                                  "--run", folder["parent"], "--force", "--steps", "1"), "contains the model");
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--task", "sst2", "--data", TaskFixtures.Parquet("sst2"),
                                                  "--run", model, "--force"),
                                   "is the model");
        Assert.Equal(before, Digest(model));
        Assert.True(File.Exists(data));
    }

    [Fact]
    public void OutputsMustNotOverlapEachOther()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--out", folder["o"],
                                         "--metrics", Path.Combine(folder["o"], "m.jsonl")), "overlaps --out");
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "1",
                                                  "--metrics", folder["m"], "--json", folder["m"]),
                                   "overlaps --metrics");
    }

    [Fact]
    public async Task AFifoADeviceAndLinksAreWrittenThroughNotReplaced()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);

        // A FIFO: sample writes into it while a reader drains it; it stays a FIFO.
        string fifo = folder["fifo"];
        Run("mkfifo", fifo);
        var reader = Task.Run(() => File.ReadAllText(fifo));
        CliProcess.Ok("sample", model, "--out", fifo, "--count", "2", "--length", "4");
        Assert.Equal(2, (await reader).Trim().Split('\n').Length);
        Assert.Equal("p", FileType(fifo));

        // A device that is always full (as /dev/full): the disk-full error names it, and it stays a device.
        string full = MakeFullDevice(folder);
        CliAssert.FailsWithOneLine(CliProcess.Run("sample", model, "--out", full, "--count", "2", "--length", "4"), full, "no space left");
        Assert.Equal("c", FileType(full));

        // A link to a file: the target gets the content, the link stays.
        File.WriteAllText(folder["real.jsonl"], "old\n");
        File.CreateSymbolicLink(folder["link.jsonl"], folder["real.jsonl"]);
        CliProcess.Ok("sample", model, "--out", folder["link.jsonl"], "--count", "2", "--length", "4", "--force");
        Assert.NotNull(new FileInfo(folder["link.jsonl"]).LinkTarget);
        Assert.Contains("input_ids", File.ReadAllText(folder["real.jsonl"]));

        // A link to a folder given as --out: the folder it points to is replaced, the link stays.
        Directory.CreateDirectory(folder["real-dir"]);
        File.WriteAllText(Path.Combine(folder["real-dir"], "old.txt"), "old");
        Directory.CreateSymbolicLink(folder["link-dir"], folder["real-dir"]);
        Synth(folder["link-dir"], "--force");
        Assert.NotNull(new DirectoryInfo(folder["link-dir"]).LinkTarget);
        Assert.True(File.Exists(Path.Combine(folder["real-dir"], "config.json")));
        Assert.False(File.Exists(Path.Combine(folder["real-dir"], "old.txt")));
    }

    [Fact]
    public void AFullDiskIsOneLineNamingTheFileAndLeavesNoOutput()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);
        string full = MakeFullDevice(folder);
        var r = CliProcess.Run("finetune", model, "--train", data, "--steps", "2", "--batch-size", "2", "--out", folder["tuned"],
                               "--metrics", full);
        CliAssert.FailsWithOneLine(r, full, "no space left on the device");
        Assert.False(Directory.Exists(folder["tuned"]));
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", data, "--json", full), full, "no space left on the device");

        // A file-size limit (ulimit -f) hit while the checkpoint is written: one line, nothing half-written.
        string dense = TinyModels.Dense(folder);
        var limited = RunUnderFileSizeLimit(kilobytes: 16, "quantize", dense, folder["q"]);
        CliAssert.FailsWithOneLine(limited, "exceeds the largest size allowed");
        Assert.False(Directory.Exists(folder["q"]));
        Assert.Empty(Leftovers(folder, "q."));
    }

    [Fact]
    public void AnOutputThatCannotBeWrittenStopsTheCommandBeforeAnyWork()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);
        CliAssert.FailsWithOneLine(CliProcess.Run("synth", "--out", "/proc/qzo-out"), "/proc/qzo-out", "cannot write in /proc");
        var r = CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--out", "/proc/qzo-out");
        CliAssert.FailsWithOneLine(r, "cannot write in /proc");
        Assert.DoesNotContain("training", r.Stdout);

        // An existing --json (or sample --out) is replaced only with --force, and that is found before any work.
        File.WriteAllText(folder["summary.json"], "{}");
        r = CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--json", folder["summary.json"],
                           "--metrics", folder["m.jsonl"]);
        CliAssert.FailsWithOneLine(r, "summary.json", "exists (pass --force to replace it)");
        Assert.False(File.Exists(folder["m.jsonl"]), "the command started working before checking its outputs");
        Assert.Equal("{}", File.ReadAllText(folder["summary.json"]));
        File.WriteAllText(folder["s.jsonl"], "mine\n");
        CliAssert.FailsWithOneLine(CliProcess.Run("sample", model, "--out", folder["s.jsonl"]), "exists (pass --force to replace it)");
        Assert.Equal("mine\n", File.ReadAllText(folder["s.jsonl"]));
        CliProcess.Ok("sample", model, "--out", folder["s.jsonl"], "--count", "1", "--length", "3", "--force");
        Assert.Contains("input_ids", File.ReadAllText(folder["s.jsonl"]));
    }

    [Fact]
    public void ASecondCommandOnTheSameOutputStopsAtOnceNamingTheFirst()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);
        string[] Args(string output) =>
            ["finetune", model, "--train", data, "--steps", "100000", "--batch-size", "1", "--eval-every", "0", "--out", output];
        using var first = CliProcess.Start(Args(folder["tuned"]));
        string metrics = folder["tuned.metrics.jsonl"];
        try
        {
            WaitFor(() => File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"step\""));
            var clock = Stopwatch.StartNew();
            var second = CliProcess.Run(Args(folder["tuned"]));
            CliAssert.FailsWithOneLine(second, "in use by another qzo command", $"pid {first.Id}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the second command should stop at once");
        }
        finally
        {
            first.Kill(entireProcessTree: true);
            first.WaitForExit();
        }
        // The first run's metrics are intact: every line is one JSON object.
        foreach (var line in File.ReadLines(metrics).Where(l => l.Length > 0 && l.EndsWith('}'))) JsonNode.Parse(line);
        // Its lock died with it: the next command takes the output (no --force is needed, since nothing was written there).
        CliProcess.Ok("finetune", model, "--train", data, "--steps", "1", "--batch-size", "1", "--out", folder["tuned"], "--force");
        Assert.False(File.Exists(Path.Combine(folder.Path, ".tuned.qzo-lock")), "the lock file is removed when the command ends");
    }

    [Fact]
    public void AReplacementKilledBetweenItsRenamesIsRestoredByTheNextCommand()
    {
        using var folder = new TempFolder();
        string target = folder["model"];
        Synth(target);
        string digest = Digest(target);
        // What a kill between the two renames of a --force replacement leaves: the old folder moved aside, the new one
        // complete under its temporary name, the target absent.
        Directory.Move(target, target + ".old-0123abcd");
        Synth(folder["other"]);
        Directory.Move(folder["other"], target + ".tmp-4567ef");

        var r = CliProcess.Run("synth", "--out", target, "--hidden", "32", "--layers", "1", "--heads", "2", "--vocab", "320");
        CliAssert.FailsWithOneLine(r, "folder exists and is not empty");
        Assert.Contains("restored", r.Stdout);
        Assert.Equal(digest, Digest(target));
        Assert.Empty(Leftovers(folder, "model."));

        // A kill after the second rename: the new folder in place, the old one still aside; it is deleted.
        Directory.CreateDirectory(target + ".old-89");
        Synth(target, "--force", "--seed", "3");
        Assert.Empty(Leftovers(folder, "model."));
        Assert.NotEqual(digest, Digest(target));
    }

    [Fact]
    public void ResumingARunWithoutACheckpointSaysSoAndNeedsForce()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string run = folder["run"];
        string[] settings = ["finetune", model, "--task", "sst2", "--data", TaskFixtures.Parquet("sst2"), "--num-train", "16",
            "--num-dev", "4", "--num-eval", "4", "--run", run, "--steps", "6", "--batch-size", "2", "--eval-every", "0",
            "--checkpoint-every", "1000", "--device", "cpu"];
        CliProcess.Ok(settings);
        // As if killed before its first checkpoint: steps recorded, no state.safetensors, no results.json.
        File.Delete(Path.Combine(run, "results.json"));
        File.Delete(Path.Combine(run, "state.safetensors"));
        string metrics = File.ReadAllText(Path.Combine(run, "metrics.jsonl"));

        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", "--resume", run), "6 steps were recorded but no checkpoint", "--force");
        Assert.Equal(metrics, File.ReadAllText(Path.Combine(run, "metrics.jsonl")));

        var restarted = CliProcess.Ok("finetune", "--resume", run, "--force");
        Assert.Contains("starting from step 0", restarted.Stdout);
        var steps = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!)
            .Where(n => (string)n["type"]! == "step").ToList();
        Assert.Equal(Enumerable.Range(0, 6), steps.Select(n => (int)n["step"]!));
        Assert.True(File.Exists(Path.Combine(run, "results.json")));
    }

    /// <summary>Entries named PREFIX… (Directory's own "x.*" pattern also matches "x").</summary>
    static string[] Leftovers(TempFolder folder, string prefix) =>
        Directory.GetFileSystemEntries(folder.Path).Where(p => Path.GetFileName(p).StartsWith(prefix, StringComparison.Ordinal)).ToArray();

    static void WaitFor(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "timed out waiting");
            Thread.Sleep(20);
        }
    }

    /// <summary>A character device like /dev/full (1, 7) inside the test folder, so no test ever writes near the real one.</summary>
    static string MakeFullDevice(TempFolder folder)
    {
        string path = folder["full-device"];
        if (!File.Exists(path)) Run("mknod", path, "c", "1", "7");
        return path;
    }

    static string FileType(string path) => Run("stat", "-c", "%A", path).Substring(0, 1) switch { "-" => "f", var t => t };

    static string Run(string program, params string[] args)
    {
        using var process =
            Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)}: {process.StandardError.ReadToEnd()}");
        return output;
    }

    static CliProcess.Result RunUnderFileSizeLimit(int kilobytes, params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        string dll = Path.Combine(AppContext.BaseDirectory, "Qzo.Cli.dll");
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"ulimit -f {kilobytes}; exec \"$0\" \"$@\"");
        info.ArgumentList.Add(dotnet);
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        info.Environment["DOTNET_EnableWriteXorExecute"] = "0"; // its double-mapped code pages are files, bigger than the limit
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new CliProcess.Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
