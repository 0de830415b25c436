using System.CommandLine;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>`qzo quantize --method gptq`: the calibration and GPTQ options, and the run with its per-layer summary.</summary>
sealed class GptqOptions
{
    readonly Option<string?> _calibration = new("--calibration")
        { Description =
        "Calibration data (JSONL: text, prompt+completion or input_ids rows), tokenized with the checkpoint's tokenizer; required by " +
        "gptq; with rtn, nf4 or aqlm each linear's output error is measured on it" };
    readonly Option<int?> _samples = new Option<int?>("--calibration-samples")
        { Description = $"Calibration windows (default {CalibrationSet.DefaultSamples}, fewer if the data runs out)" }.Positive();
    readonly Option<int?> _length = new Option<int?>("--calibration-length")
        { Description =
        $"Tokens per calibration window (default {CalibrationSet.DefaultLength}, clipped to the data and to " +
        "max_position_embeddings)" }.AtLeast(2);
    readonly Option<ulong> _seed = new("--seed") { Description = "Seed of the calibration sampling (the rows' shuffle)",
        DefaultValueFactory = _ => 0UL };
    readonly Option<bool> _descAct = new("--desc-act")
        { Description = "gptq: act-order, quantize inputs by descending Hessian diagonal (writes g_idx)" };
    readonly Option<bool> _staticGroups = new("--static-groups")
        { Description = "gptq with --desc-act: fix each group's grid up front, in input order" };
    readonly Option<double> _damp = new Option<double>("--damp")
        { Description = "gptq: dampening, a fraction of mean(diag H) added to the diagonal",
        DefaultValueFactory = _ => 0.01 }.NonNegative();
    readonly Option<int> _blockSize = new Option<int>("--gptq-block-size") { Description = "gptq: columns per lazy-update block",
        DefaultValueFactory = _ => 128 }.Positive();
    readonly Option<bool> _trueSequential = new("--true-sequential")
        { Description =
        "gptq: quantize q,k,v → o → gate,up → down, each on inputs through the parts already quantized (false: all on the layer's " +
        "unquantized inputs)", DefaultValueFactory = _ => true };
    readonly Option<string> _device = CommonOptions.Device();
    readonly Option<string?> _report = new("--report")
        { Description =
        "With --calibration: write each linear's relative output error to this JSON file (gptq: GPTQ's and RTN's on the same inputs)" };

    public IEnumerable<Option> All => [_calibration, _samples, _length, _seed, _descAct, _staticGroups, _damp, _blockSize, _trueSequential,
        _report, _device];

    /// <summary>The calibration data read and the --report file written, checked and locked before any work.</summary>
    public void ClaimFiles(ParseResult r, Qzo.IO.OutputPlan outputs, bool force)
    {
        outputs.Input(r.GetValue(_calibration), "the calibration data");
        _reportPath = outputs.File(r.GetValue(_report), "--report", force);
    }

    string? _reportPath;

    /// <summary>
    /// The backend the calibration runs on (--device; auto = CUDA when present): made before anything is written, so
    /// a missing GPU stops the command with one line and no output. Other methods need one only to measure (--calibration).
    /// </summary>
    public Compute.IBackend? CreateBackend(ParseResult r, string method)
    {
        bool needed = method == "gptq" || r.GetValue(_calibration) is not null;
        if (!needed && r.GetResult(_device) is { Implicit: false })
            throw new QzoException($"--device applies to --method gptq, and to the others with --calibration (to measure on it)");
        return needed ? CommonOptions.CreateBackend(r.GetValue(_device)!) : null;
    }

    /// <summary>The GPTQ-only options given on a command line for another method.</summary>
    public IEnumerable<string> GptqOnlyGiven(ParseResult r) =>
        new Option[] { _descAct, _staticGroups, _damp, _blockSize, _trueSequential }
            .Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name);

    public GptqConfig Config(ParseResult r, int bits, int groupSize, bool sym, GptqCheckpointFormat format)
    {
        if (r.GetValue(_staticGroups) && !r.GetValue(_descAct)) throw new QzoException("--static-groups applies with --desc-act only");
        return GptqConfig.Create(bits, groupSize, sym, format, r.GetValue(_descAct), r.GetValue(_damp), r.GetValue(_staticGroups),
            r.GetValue(_trueSequential));
    }

    public void Run(ParseResult r, string input, string output, GptqConfig config, bool force, Compute.IBackend backend)
    {
        string calibration = r.GetValue(_calibration)
            ?? throw new QzoException("--method gptq needs --calibration FILE.jsonl (text to run through the model)");
        var options = new CalibrationOptions(calibration, r.GetValue(_samples), r.GetValue(_length), r.GetValue(_seed));
        var report = ProgressDisplay.Run("gptq", update =>
            CheckpointQuantizer.QuantizeGptq(input, output, config, options, backend, r.GetValue(_blockSize), force,
                new Progress<GptqProgress>(p => update(p.Fraction, p.Status))));

        var table = new Table()
            .Title("relative output error ‖XWᵀ − XŴᵀ‖ / ‖XWᵀ‖ on the calibration inputs (mean over the layer's linears)")
            .AddColumns("layer", "gptq", "rtn", "gptq / rtn");
        foreach (var layer in report.Linears.GroupBy(l => l.Layer))
        {
            double gptq = layer.Average(l => l.RelativeError), rtn = layer.Average(l => l.RtnRelativeError);
            table.AddRow(layer.Key.ToString(), $"{gptq:E3}", $"{rtn:E3}", rtn > 0 ? $"{gptq / rtn:F3}" : "-");
        }
        double all = report.Linears.Average(l => l.RelativeError), allRtn = report.Linears.Average(l => l.RtnRelativeError);
        table.AddRow("all", $"{all:E3}", $"{allRtn:E3}", allRtn > 0 ? $"{all / allRtn:F3}" : "-");
        AnsiConsole.Write(table);
        if (_reportPath is string path)
            Qzo.IO.AtomicFile.WriteAllText(path, report.ToJson().ToJsonString(new() { WriteIndented = true }) + "\n");
        AnsiConsole.MarkupLine(
            $"calibration: {report.Samples} samples × {report.Length} tokens (the file holds {report.CalibrationTokens} tokens), on " +
            $"{Markup.Escape(backend.Name)}");
    }

    /// <summary>
    /// rtn, nf4, aqlm with --calibration: the calibration windows to measure each linear's output error on, loaded (and
    /// so checked) before anything is written; null without --calibration.
    /// </summary>
    public CalibrationSet? MeasurementData(ParseResult r, string method, string input)
    {
        if (r.GetValue(_calibration) is not string calibration)
        {
            if (r.GetValue(_report) is not null) throw new QzoException($"--report needs --calibration FILE.jsonl with --method {method}");
            return null;
        }
        return OutputErrorMeasurement.LoadCalibration(input, new CalibrationOptions(calibration, r.GetValue(_samples), r.GetValue(_length),
            r.GetValue(_seed)));
    }

    /// <summary>
    /// Each linear's relative output error on the calibration inputs that reach it through the quantized layers before
    /// it, as GPTQ reports its own (<see cref="OutputErrorMeasurement"/>); nothing when <paramref name="set"/> is null.
    /// </summary>
    public void Measure(ParseResult r, CalibrationSet? set, Compute.IBackend? backend, string method, string input, string output)
    {
        if (set is null) return;
        var calibrationBackend = backend ?? throw new InvalidOperationException("--calibration comes with a backend (CreateBackend)");
        using var decoder = new Compute.Cpu.CpuBackend(); // decodes the quantized weights in fp32, as GPTQ's own report sees them
        var report = ProgressDisplay.Run("measuring", update =>
            OutputErrorMeasurement.Measure(input, output, set, calibrationBackend, decoder,
                                           new Progress<GptqProgress>(p => update(p.Fraction, p.Status))));
        var table = new Table()
            .Title("relative output error ‖XWᵀ − XŴᵀ‖ / ‖XWᵀ‖ on the calibration inputs (mean over the layer's linears)")
            .AddColumns("layer", Markup.Escape(method));
        foreach (var layer in report.Linears.GroupBy(l => l.Layer)) table.AddRow(layer.Key.ToString(),
            $"{layer.Average(l => l.RelativeError):E3}");
        table.AddRow("all", $"{report.MeanRelativeError:E3}");
        AnsiConsole.Write(table);
        if (_reportPath is string path)
            Qzo.IO.AtomicFile.WriteAllText(path, report.ToJson().ToJsonString(new() { WriteIndented = true }) + "\n");
        AnsiConsole.MarkupLine(
            $"calibration: {report.Samples} samples × {report.Length} tokens (the file holds {report.CalibrationTokens} tokens)");
    }
}
