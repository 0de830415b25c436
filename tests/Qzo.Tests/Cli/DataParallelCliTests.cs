using System.Text.Json.Nodes;
using Qzo.Cli.Commands;
using Qzo.IO;
using Qzo.Tests.Models;

namespace Qzo.Tests.Cli;

/// <summary>`finetune --devices`: ranks as threads and as spawned worker processes (the GPU launch path, over TCP).</summary>
public class DataParallelCliTests
{
    [Fact]
    public void ThreadRanksAndWorkerProcessesTrainTheSameScalesAndOnlyRankZeroWrites()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 9, length: 10, vocab: 320, seed: 4);
        string[] Args(string devices, string name) =>
            ["finetune", model, "--train", data, "--validation", data, "--out", folder[name], "--steps", "3", "--batch-size", "5",
             "--lr", "1e-3", "--seed", "8", "--eval-every", "2", "--directions", "2", "--devices", devices,
             "--json", folder[name + ".json"]];

        var threads = CliProcess.Ok(Args("cpu:3", "threads"));
        var processes = CliProcess.Ok(Args("cpu-processes:3", "processes"));

        Assert.Contains("data parallel: 3 ranks", threads.Stdout);
        Assert.Contains("data parallel: 3 ranks", processes.Stdout);
        foreach (var name in new[] { "threads", "processes" })
        {
            var steps = File.ReadLines(folder[name] + ".metrics.jsonl").Select(l => JsonNode.Parse(l)!)
                .Where(n => (string)n["type"]! == "step").ToList();
            Assert.Equal([0, 1, 2], steps.Select(s => (int)s["step"]!)); // one writer: every step once
            Assert.All(steps, s => Assert.Equal(2, s["directions"]!.AsArray().Count));
            Assert.Equal(3, (int)JsonNode.Parse(File.ReadAllText(folder[name + ".json"]))!["steps"]!);
        }
        using var original = CheckpointTensors.Open(model);
        using var a = CheckpointTensors.Open(folder["threads"]);
        using var b = CheckpointTensors.Open(folder["processes"]);
        var scales = a.Names.Where(n => n.EndsWith(".scales")).ToList();
        Assert.NotEmpty(scales);
        Assert.Contains(scales, n => !a.ReadFloat32(n).SequenceEqual(original.ReadFloat32(n))); // trained
        foreach (var n in scales) Assert.Equal(a.ReadFloat32(n), b.ReadFloat32(n)); // both sum in rank order: the same bits
    }

    [Fact]
    public void WorkersGetTorchrunVariablesTheirOwnGpuAndTheCommandWithoutDevices()
    {
        var environment = DeviceWorkers.Environment(rank: 2, worldSize: 4, gpu: "5", port: 29511);
        Assert.Equal("2", environment["RANK"]);
        Assert.Equal("4", environment["WORLD_SIZE"]);
        Assert.Equal("2", environment["LOCAL_RANK"]);
        Assert.Equal("127.0.0.1", environment["MASTER_ADDR"]);
        Assert.Equal("29511", environment["MASTER_PORT"]);
        Assert.Equal("5", environment["CUDA_VISIBLE_DEVICES"]);
        Assert.Equal("0", environment["NCCL_NVLS_ENABLE"]);
        Assert.False(DeviceWorkers.Environment(0, 2, gpu: null, 1).ContainsKey("CUDA_VISIBLE_DEVICES"));
        Assert.Equal(["finetune", "m", "--train", "t", "--steps", "3", "--device", "cuda"],
            DeviceWorkers.WorkerArguments(["finetune", "m", "--devices", "0,1", "--train", "t", "--device=cpu", "--steps", "3"], "cuda"));
    }

    [Theory]
    [InlineData("0,1,3", 3, 0, 0)]
    [InlineData("cpu:4", 0, 4, 0)]
    [InlineData("cpu-processes:2", 0, 0, 2)]
    public void DeviceListsParse(string text, int gpus, int threads, int processes)
    {
        var list = DeviceList.Parse(text);
        Assert.Equal((gpus, threads, processes), (list.Gpus.Count, list.CpuThreads, list.CpuProcesses));
    }

    [Theory]
    [InlineData("cpu:0", "--devices takes GPU ids (0,1,2,3), cpu:N or cpu-processes:N; N must be ≥ 1, got 'cpu:0'")]
    [InlineData("gpu0", "--devices takes GPU ids (0,1,2,3), cpu:N or cpu-processes:N, got 'gpu0'")]
    [InlineData("1,1", "--devices names a GPU twice: '1,1'")]
    public void BadDeviceListsGiveOneLine(string text, string expected) =>
        Assert.Equal(expected, Assert.Throws<QzoException>(() => DeviceList.Parse(text)).Message);

    [Fact]
    public void DevicesUnderALauncherAreRefused()
    {
        using var folder = new TempFolder();
        var r = CliProcess.Run(new Dictionary<string, string> { ["RANK"] = "0", ["WORLD_SIZE"] = "2", ["MASTER_ADDR"] = "127.0.0.1",
            ["MASTER_PORT"] = "29999" }, "finetune", folder["model"], "--train", folder["t.jsonl"], "--devices", "cpu:2");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: --devices starts its own workers, but this process is already rank 0 of 2 (torchrun); give no --devices " +
            "under a launcher", r.Stderr.Trim());
    }
}
