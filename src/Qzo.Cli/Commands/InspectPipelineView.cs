using Qzo.Diffusion.Pipelines;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>
/// `qzo inspect` of a diffusers pipeline or component folder: one aligned line per component (a table of six columns
/// would wrap class names at the 80 columns a redirected output gets; Console, not Spectre, so lines never wrap), then
/// the transformer's key config.
/// </summary>
static class InspectPipelineView
{
    public static void Print(PipelineInspection inspection)
    {
        string title = Path.GetFullPath(inspection.Root) + (inspection.PipelineClass is { } c ? $": {c}" : "");
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
        var rows = inspection.Components.Select(Row).ToList();
        var weighted = inspection.Components.Where(s => s.Parameters is not null).ToList();
        if (weighted.Count > 1)
            rows.Add(["total", "", "", $"{weighted.Sum(s => s.Parameters!.Value):N0} parameters",
                      CommonOptions.Bytes(inspection.Components.Sum(s => s.BytesOnDisk)), ""]);
        var widths = Enumerable.Range(0, 6).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
            Console.WriteLine(("  " + string.Join("  ", row.Select((cell, i) => i is 3 or 4 ? cell.PadLeft(widths[i])
                                                                                               : cell.PadRight(widths[i])))).TrimEnd());
        if (inspection.TransformerConfig.Count == 0) return;
        var config = new Table().AddColumns("transformer config", "value");
        foreach (var (key, value) in inspection.TransformerConfig) config.AddRow(Markup.Escape(key), Markup.Escape(value));
        AnsiConsole.Write(config);
    }

    static string[] Row(ComponentSummary s)
    {
        string quantization = s.Quantization is null ? "" :
            s.QuantizedLinears > 0 ? $"{s.Quantization}, {s.QuantizedLinears} linears" : s.Quantization;
        return [s.Key, s.ClassName, s.DType ?? "", s.Parameters is long p ? $"{p:N0} parameters" : "",
                s.ClassName == "none" ? "" : CommonOptions.Bytes(s.BytesOnDisk), quantization];
    }
}
