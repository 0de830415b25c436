using Qzo.Diffusion.Pipelines;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>`qzo inspect` of a diffusers pipeline or component folder: one row per component, then the transformer's key config.</summary>
static class InspectPipelineView
{
    public static void Print(PipelineInspection inspection)
    {
        string title = Path.GetFullPath(inspection.Root) + (inspection.PipelineClass is { } c ? $" ({c})" : "");
        var table = new Table().AddColumns("component", "class", "dtype", "parameters", "bytes on disk", "quantization")
                               .Title(Markup.Escape(title));
        foreach (var s in inspection.Components)
        {
            string quantization = s.Quantization is null ? "" :
                s.QuantizedLinears > 0 ? $"{s.Quantization}, {s.QuantizedLinears} linears" : s.Quantization;
            table.AddRow(Markup.Escape(s.Key), Markup.Escape(s.ClassName),
                         s.DType ?? "", s.Parameters is long p ? $"{p:N0}" : "", CommonOptions.Bytes(s.BytesOnDisk),
                         Markup.Escape(quantization));
        }
        var weighted = inspection.Components.Where(s => s.Parameters is not null).ToList();
        if (weighted.Count > 1)
            table.AddRow("[bold]total[/]", "", "", $"{weighted.Sum(s => s.Parameters!.Value):N0}",
                         $"[bold]{CommonOptions.Bytes(inspection.Components.Sum(s => s.BytesOnDisk))}[/]", "");
        AnsiConsole.Write(table);
        if (inspection.TransformerConfig.Count == 0) return;
        var config = new Table().AddColumns("transformer config", "value");
        foreach (var (key, value) in inspection.TransformerConfig) config.AddRow(Markup.Escape(key), Markup.Escape(value));
        AnsiConsole.Write(config);
    }
}
