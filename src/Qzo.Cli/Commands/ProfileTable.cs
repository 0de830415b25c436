using Qzo.Compute;
using Qzo.Compute.Cuda;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>With QZO_PROFILE=1, the CUDA backend's time per operation (each one synchronized), as a table.</summary>
static class ProfileTable
{
    public static void Print(IBackend backend, string what)
    {
        if (backend is not CudaBackend { Profile: { Count: > 0 } profile }) return;
        var ops = new Table().AddColumns("operation (QZO_PROFILE=1)", "calls", "seconds", "share")
            .Title($"where the time went ({what}, each operation synchronized)");
        double profiled = profile.Values.Sum(v => v.Seconds);
        foreach (var (name, (calls, seconds)) in profile.OrderByDescending(kv => kv.Value.Seconds))
            ops.AddRow(name, calls.ToString(), $"{seconds:F3}", $"{seconds / profiled:P1}");
        AnsiConsole.Write(ops);
    }
}
