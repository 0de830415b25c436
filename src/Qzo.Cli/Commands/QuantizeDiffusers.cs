using System.CommandLine;
using Qzo.Diffusion.Quantization;
using Qzo.Quantization.Bnb;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>
/// `qzo quantize --method nf4` on a diffusers pipeline folder (model_index.json) or one of its component folders:
/// <see cref="PipelineQuantizer"/>, with --components choosing what a pipeline quantizes.
/// </summary>
sealed class QuantizeDiffusers
{
    readonly Option<string?> _components = new("--components")
    {
        Description = "nf4 on a diffusers pipeline folder: the components to quantize, comma-separated, from " +
                      $"{string.Join(", ", PipelineQuantizer.QuantizableComponents)} (default: transformer only, the diffusion " +
                      "transformer, as the QZO paper quantizes it); the others are copied unchanged",
    };

    public Option<string?> Components => _components;

    /// <summary>The options that mean something for a diffusers folder; any other given is refused.</summary>
    static readonly string[] Applicable = ["--method", "--quant-type", "--double-quant", "--block-size", "--components", "--force"];

    public static bool Handles(string input) => PipelineQuantizer.IsDiffusersFolder(input);

    /// <summary>Refuses --components for a language-model checkpoint.</summary>
    public void CheckNotGiven(ParseResult r)
    {
        if (r.GetResult(_components) is { Implicit: false })
            throw new QzoException("--components applies to a diffusers pipeline folder (model_index.json)");
    }

    public void Run(ParseResult r, Command command, string method, QuantizeFormatOptions formats, string input, string output, bool force)
    {
        if (method != "nf4")
            throw new QzoException(
                $"--method {method} applies to language-model checkpoints; {input} is a diffusers folder, which takes --method nf4");
        if (command.Options.FirstOrDefault(o => r.GetResult(o) is { Implicit: false } && !Applicable.Contains(o.Name)) is Option other)
            throw new QzoException($"{other.Name} does not apply to a diffusers folder (it takes {string.Join(", ", Applicable.Skip(1))})");
        var format = formats.Bnb4Bit(r);
        var components = r.GetValue(_components) is string list
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : null;
        var reports = ProgressDisplay.Run("quantizing", update =>
            PipelineQuantizer.Quantize(input, output, components, format, force, new Progress<double>(f => update(f, null))));

        var table = new Table().AddColumns("component", "class", "linears", "weights before", "after", "error mean", "error max")
            .Title($"{Markup.Escape(format.Description)}: relative reconstruction error ‖W − Ŵ‖/‖W‖ per linear");
        foreach (var c in reports)
            table.AddRow(Markup.Escape(c.Name), Markup.Escape(c.ClassName),
                         $"{c.QuantizedLinears}",
                         CommonOptions.Bytes(c.BytesBefore), CommonOptions.Bytes(c.BytesAfter),
                         $"{c.Errors.MeanRelativeError:F4}", $"{c.Errors.MaxRelativeError:F4}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(output)}: {Markup.Escape(format.Description)}");
        foreach (var c in reports.Where(c => c.Errors.Layers.Count > 0))
        {
            var worst = c.Errors.Layers.MaxBy(l => l.RelativeError);
            AnsiConsole.MarkupLine(
                $"{Markup.Escape(c.Name)}: relative reconstruction error ‖W − Ŵ‖/‖W‖ over {c.Errors.Layers.Count} linears" +
                (c.KeptLinears > 0 ? $" ({c.KeptLinears} more kept dense, as {c.Library} keeps them)" : "") + ": mean " +
                $"{c.Errors.MeanRelativeError:F4}, max {c.Errors.MaxRelativeError:F4} ({Markup.Escape(worst.Linear)})");
        }
    }
}
