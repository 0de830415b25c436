using System.Diagnostics;
using System.Text.RegularExpressions;
using Qzo.IO;
using Qzo.Tests.Models;
using Qzo.Tests.Tasks;

namespace Qzo.Tests.Cli;

public class ResumeCliTests
{
    [Fact]
    public void AKilledRunResumesWithTheSameSeedsMetricsAndScales()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string[] Settings(string run) => ["finetune", model, "--task", "sst2", "--data", TaskFixtures.Parquet("sst2"), "--num-train", "64",
            "--num-dev", "4", "--num-eval", "4", "--run", run, "--steps", "400", "--batch-size", "1", "--eval-every", "100",
            "--checkpoint-every", "10", "--lr", "2e-3", "--seed", "9", "--device", "cpu"];

        CliProcess.Ok(Settings(folder["whole"]));

        // The same run, killed (SIGKILL, no clean-up) once it has written more than 25 steps: past a checkpoint, between two.
        using (var process = CliProcess.Start(Settings(folder["killed"])))
        {
            string metrics = Path.Combine(folder["killed"], "metrics.jsonl");
            var clock = Stopwatch.StartNew();
            while (StepLines(metrics) <= 25)
            {
                Assert.False(process.HasExited, "the run ended before it could be killed");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the run made no progress");
                Thread.Sleep(5);
            }
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(folder["killed"], "results.json")),
            "the run finished before the kill; the test did not test resuming");
        int seen = StepLines(Path.Combine(folder["killed"], "metrics.jsonl"));

        CliProcess.Ok("finetune", "--resume", folder["killed"]);

        Assert.True(seen < 400);
        Assert.Equal(Lines(folder["whole"]), Lines(folder["killed"]));
        using var whole = SafetensorsFile.Open(Path.Combine(folder["whole"], "model", "model.safetensors"));
        using var resumed = SafetensorsFile.Open(Path.Combine(folder["killed"], "model", "model.safetensors"));
        foreach (var tensor in whole.Tensors) Assert.Equal(whole.GetBytes(tensor.Name).ToArray(), resumed.GetBytes(tensor.Name).ToArray());
        string Test(string run) =>
            System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder[run], "results.json")))!["test"]!.ToJsonString();
        Assert.Equal(Test("whole"), Test("killed"));
        Assert.True((bool)System.Text.Json.Nodes.JsonNode.Parse(
            File.ReadAllText(Path.Combine(folder["killed"], "results.json")))!["resumed"]!);

        var finished = CliProcess.Run("finetune", "--resume", folder["killed"]);
        Assert.Equal(1, finished.ExitCode);
        Assert.Contains("has finished", finished.Stderr);
    }

    static int StepLines(string path)
    {
        if (!File.Exists(path)) return 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n').Count(l => l.Contains("\"type\":\"step\""));
    }

    /// <summary>metrics.jsonl without the wall-clock times, which no two runs share.</summary>
    static List<string> Lines(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => Regex.Replace(l, "\"elapsed_s\":[^,}]*", "")).ToList();
}
