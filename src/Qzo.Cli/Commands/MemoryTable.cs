using Qzo.Compute;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class MemoryTable
{
    public static void Print(MemoryTracker memory)
    {
        var table = new Table().AddColumns("memory (tracking allocator)", "peak", "now").Title("memory");
        foreach (var category in Enum.GetValues<MemoryCategory>())
            table.AddRow(category.ToString(), CommonOptions.Bytes(memory.Peak(category)), CommonOptions.Bytes(memory.Current(category)));
        table.AddRow("[bold]total (peak of the sum)[/]", $"[bold]{CommonOptions.Bytes(memory.PeakTotal)}[/]",
            CommonOptions.Bytes(memory.CurrentTotal));
        AnsiConsole.Write(table);
    }

    /// <summary>
    /// The tracker's table, and beside it the CUDA driver's own count (which also holds the context, cuBLAS workspaces and caches).
    /// </summary>
    public static void Print(Qzo.Compute.IBackend backend)
    {
        Print(backend.Memory);
        if (backend is Qzo.Compute.Cuda.CudaBackend cuda && cuda.DriverMemory() is var (free, total))
            AnsiConsole.MarkupLine(
                $"CUDA driver (cuMemGetInfo): {CommonOptions.Bytes(total - free)} in use of {CommonOptions.Bytes(total)}");
    }
}
