using System.CommandLine;
using Qzo.Compute;

namespace Qzo.Cli.Commands;

/// <summary>Options several verbs share.</summary>
static class CommonOptions
{
    public static Option<string> Device()
    {
        var device = new Option<string>("--device")
        {
            Description = "Where to compute: cuda (an NVIDIA GPU), cpu, or auto (cuda when a CUDA device is present, else cpu)",
            DefaultValueFactory = _ => "auto",
        };
        device.CompletionSources.Add("cuda", "cpu", "auto");
        return device;
    }

    public static IBackend CreateBackend(string device) => ComputeDevices.CreateBackend(ComputeDevices.Parse(device));

    public static Option<string> Compute()
    {
        var compute = new Option<string>("--compute")
        {
            Description = "What quantized linears multiply in: native (bf16 on a GPU, fp32 on the CPU) or fp8 (e4m3 with per-tensor " +
                          "scales, on GPUs of compute capability 8.9+; emulated on the CPU); see docs/kernels.md §9",
            DefaultValueFactory = _ => "native",
        };
        compute.CompletionSources.Add("native", "fp8");
        return compute;
    }

    public static LinearPrecision Precision(string value, string option) => Runs.ZoOptionsJson.ParsePrecision(value, option);

    public static Option<bool> Force() => new Option<bool>("--force")
        { Description = "Replace the outputs (folders and files) if they exist" };

    /// <summary>The command's inputs and outputs, checked and locked before any work (restored leftovers are noted).</summary>
    public static Qzo.IO.OutputPlan Outputs() =>
        new(line => Spectre.Console.AnsiConsole.MarkupLine($"[yellow]note:[/] {Spectre.Console.Markup.Escape(line)}"));

    public static Option<int> MaxLength() => new Option<int>("--max-length")
    {
        Description = "Longest sequence in tokens; longer ones lose tokens on the left (BOS kept)",
        DefaultValueFactory = _ => 2048,
    }.Positive();

    public static Option<int> BatchSize(int fallback) => new Option<int>("--batch-size")
    {
        Description = "Examples per step (training) or per forward pass (evaluation)",
        DefaultValueFactory = _ => fallback,
    }.Positive();

    public static Option<string?> Template() => new Option<string?>("--template")
    {
        Description = "Classification prompt with {field} placeholders from the data rows, e.g. \"{text} It was\"",
    };

    public static Option<string?> Verbalizers() => new Option<string?>("--verbalizers")
    {
        Description = "Classification answers as JSON, label -> text, e.g. '{\"0\": \" terrible\", \"1\": \" great\"}'",
    };

    public static Tasks.ClassificationFormat? Classification(string? template, string? verbalizers)
    {
        if (template is null && verbalizers is null) return null;
        if (template is null || verbalizers is null) throw new QzoException("classification data needs both --template and --verbalizers");
        return Tasks.ClassificationFormat.Parse(template, verbalizers);
    }

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F2} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):F1} KiB",
        _ => $"{bytes} B",
    };
}
