using System.Diagnostics;
using Qzo.Compute;
using Qzo.Compute.Cuda;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>
/// With QZO_PROFILE set (<see cref="OperationProfile"/>), the CUDA backend's time per operation and the host phases, as a
/// table; with the wall time of what was profiled, the rest of it as one more row.
/// </summary>
static class ProfileTable
{
    public sealed record Snapshot(IReadOnlyList<(string Name, int Calls, double Seconds)> Rows, double? WallSeconds);

    /// <summary>The profile so far (null when there is none).</summary>
    public static Snapshot? Take(IBackend backend, double? wallSeconds = null)
    {
        if (backend is not CudaBackend { Profile: { Count: > 0 } profile }) return null;
        var rows = profile.Select(kv => (kv.Key, kv.Value.Calls, kv.Value.Seconds))
            .Concat(OperationProfile.HostPhases.Select(kv => ("host: " + kv.Key, kv.Value.Calls, kv.Value.Seconds))).ToList();
        return new Snapshot(rows, wallSeconds);
    }

    /// <summary>Forgets what was profiled so far (a warm-up's compiles) and returns a clock for the wall time from here.</summary>
    public static Stopwatch Restart(IBackend backend)
    {
        (backend as CudaBackend)?.Profile?.Clear();
        OperationProfile.ClearHostPhases();
        backend.Synchronize();
        return Stopwatch.StartNew();
    }

    public static void Print(IBackend backend, string what, double? wallSeconds = null) => Print(Take(backend, wallSeconds), what);

    public static void Print(Snapshot? snapshot, string what)
    {
        if (snapshot is null) return;
        bool host = OperationProfile.Current == OperationProfile.Mode.Host;
        var rows = snapshot.Rows.OrderByDescending(r => r.Seconds).ToList();
        double profiled = rows.Sum(r => r.Seconds);
        if (snapshot.WallSeconds is double wall && wall > profiled) rows.Add(("(the rest of the wall time)", 0, wall - profiled));
        double total = Math.Max(profiled, snapshot.WallSeconds ?? 0);
        var table = new Table().AddColumns($"operation (QZO_PROFILE={(host ? "host" : "1")})", "calls", "seconds", "share")
            .Title(host ? $"where the host's time went ({what}; operations: the time to issue them, nothing synchronized)"
                        : $"where the time went ({what}, each operation synchronized)");
        foreach (var (name, calls, seconds) in rows)
            table.AddRow(Markup.Escape(name), calls == 0 ? "" : calls.ToString(), $"{seconds:F3}",
                         total > 0 ? $"{seconds / total:P1}" : "");
        AnsiConsole.Write(table);
    }
}
