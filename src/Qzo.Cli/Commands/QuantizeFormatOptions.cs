using System.CommandLine;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>`qzo quantize --method nf4|aqlm`: the bitsandbytes 4-bit and AQLM writers and their options.</summary>
sealed class QuantizeFormatOptions
{
    readonly Option<string> _quantType = new("--quant-type") { Description = "nf4: the 4-bit type, nf4 or fp4",
        DefaultValueFactory = _ => "nf4" };
    readonly Option<bool> _doubleQuant = new("--double-quant")
        { Description = "nf4: quantize the block absmax again to 8 bits (bnb_4bit_use_double_quant)" };
    readonly Option<int> _blockSize = new Option<int>("--block-size") { Description = "nf4: weights per absmax block",
        DefaultValueFactory = _ => 64 }.Positive();
    readonly Option<string> _scheme = new("--scheme")
        { Description = "aqlm: <codebooks>x<bits per codebook>, e.g. 1x16 or 2x8 (2 bits per weight with in-group 8)",
        DefaultValueFactory = _ => "2x8" };
    readonly Option<int> _inGroupSize = new Option<int>("--in-group-size") { Description = "aqlm: input weights per code",
        DefaultValueFactory = _ => 8 }.Positive();
    readonly Option<int> _rounds = new Option<int>("--rounds")
        { Description = "aqlm: rounds of code reassignment and least-squares codebook updates after k-means",
        DefaultValueFactory = _ => 3 }.NonNegative();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _quantType, _doubleQuant, _blockSize, _scheme, _inGroupSize, _rounds }) command.Options.Add(
            option);
    }

    public static bool Handles(string method) => method is "nf4" or "aqlm";

    public void Run(ParseResult r, string method, string input, string output, bool force)
    {
        ILinearQuantizer format = method == "nf4" ? Bnb4Bit(r) : Aqlm(r);
        var report = ProgressDisplay.Run("quantizing", update =>
            CheckpointQuantizer.Quantize(input, output, format, force, new Progress<double>(f => update(f, null))));
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(output)}: {Markup.Escape(format.Description)}");
        if (report.Layers.Count == 0) return;
        var worst = report.Layers.MaxBy(l => l.RelativeError);
        AnsiConsole.MarkupLine(
            $"relative reconstruction error ‖W − Ŵ‖/‖W‖ over {report.Layers.Count} linears: mean " +
            $"{report.MeanRelativeError:F4}, " +
                               $"max {report.MaxRelativeError:F4} ({Markup.Escape(worst.Linear)})");
    }

    public Bnb4BitCheckpointFormat Bnb4Bit(ParseResult r)
    {
        string type = r.GetValue(_quantType)!;
        if (!FourBitTypes.TryParse(type, out var quantType)) throw new QzoException($"--quant-type must be nf4 or fp4, got '{type}'");
        return new Bnb4BitCheckpointFormat(quantType, r.GetValue(_blockSize), r.GetValue(_doubleQuant));
    }

    AqlmCheckpointFormat Aqlm(ParseResult r)
    {
        var scheme = AqlmScheme.Parse(r.GetValue(_scheme)!) with { InGroupSize = r.GetValue(_inGroupSize) };
        scheme.Validate("--scheme/--in-group-size");
        return new AqlmCheckpointFormat(scheme, new AqlmQuantizerOptions(Rounds: Math.Max(0, r.GetValue(_rounds))));
    }
}
