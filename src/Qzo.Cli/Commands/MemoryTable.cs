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
        table.AddRow("[bold]total (peak of the sum)[/]", $"[bold]{CommonOptions.Bytes(memory.PeakTotal)}[/]", CommonOptions.Bytes(memory.CurrentTotal));
        AnsiConsole.Write(table);
    }
}
