using System.Diagnostics;
using System.Reflection;
using Qzo.Distributed;

namespace Qzo.Cli.Commands;

/// <summary>
/// `finetune --devices 0,1,...` on one host: this process starts one worker per device, each the same command with
/// torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and its GPU alone visible, waits for
/// them all, and stops the others as soon as one fails (docs/distributed.md §Launch).
/// </summary>
static class DeviceWorkers
{
    /// <summary>The variables of worker <paramref name="rank"/>; a null GPU leaves the visible devices alone (CPU workers).</summary>
    public static Dictionary<string, string> Environment(int rank, int worldSize, string? gpu, int port)
    {
        var variables = new Dictionary<string, string>
        {
            ["RANK"] = $"{rank}", ["WORLD_SIZE"] = $"{worldSize}", ["LOCAL_RANK"] = $"{rank}", ["MASTER_ADDR"] = "127.0.0.1",
            ["MASTER_PORT"] = $"{port}", ["NCCL_NVLS_ENABLE"] = "0",
        };
        if (gpu is not null) variables["CUDA_VISIBLE_DEVICES"] = gpu;
        return variables;
    }

    /// <summary>The command line of every worker: this one without --devices and --device, then --device DEVICE.</summary>
    public static List<string> WorkerArguments(IReadOnlyList<string> arguments, string device)
    {
        var kept = new List<string>();
        for (int i = 0; i < arguments.Count; i++)
        {
            string a = arguments[i];
            if (a is "--devices" or "--device") { i++; continue; }
            if (a.StartsWith("--devices=", StringComparison.Ordinal) || a.StartsWith("--device=", StringComparison.Ordinal)) continue;
            kept.Add(a);
        }
        kept.Add("--device");
        kept.Add(device);
        return kept;
    }

    /// <exception cref="QzoException">a worker failed (the others are stopped); its own error line is above.</exception>
    public static void Run(DeviceList devices, IReadOnlyList<string> arguments)
    {
        int world = devices.Ranks, port = TcpRendezvous.FreeLoopbackPort();
        bool gpus = devices.Gpus.Count > 0;
        var workerArguments = WorkerArguments(arguments, gpus ? "cuda" : "cpu");
        var workers = new List<Process>();
        try
        {
            for (int rank = 0; rank < world; rank++)
            {
                var start = Start(workerArguments);
                foreach (var (name, value) in Environment(rank, world, gpus ? devices.Gpus[rank] : null, port))
                    start.Environment[name] = value;
                workers.Add(Process.Start(start) ?? throw new QzoException($"could not start the worker of rank {rank}"));
            }
            var pending = workers.ToList();
            while (pending.Count > 0)
            {
                var done = pending.FirstOrDefault(w => w.HasExited);
                if (done is null) { Thread.Sleep(100); continue; }
                pending.Remove(done);
                if (done.ExitCode == 0) continue;
                int rank = workers.IndexOf(done);
                throw new QzoException($"the worker of rank {rank}{(gpus ? $" (GPU {devices.Gpus[rank]})" : "")} exited with code " +
                    $"{done.ExitCode}; the others were stopped");
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (!worker.HasExited) worker.Kill(entireProcessTree: true);
                worker.Dispose();
            }
        }
    }

    /// <summary>This program again: the apphost, or `dotnet qzo.dll` when run through the dotnet host.</summary>
    static ProcessStartInfo Start(IReadOnlyList<string> arguments)
    {
        string host = System.Environment.ProcessPath ?? throw new QzoException("cannot tell which program to start the workers with");
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        return start;
    }

}
