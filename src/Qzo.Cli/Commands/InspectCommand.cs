using System.CommandLine;
using Qzo.Diffusion.Pipelines;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Bnb;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class InspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path")
            { Description = "A checkpoint folder, one .safetensors file, a diffusers pipeline folder or one of its component folders" +
                            HubArguments.ModelHelp };
        var revision = HubArguments.Revision();
        var all = new Option<bool>("--tensors") { Description = "List every tensor (default: the first layer's and the rest summarised)" };
        var dequantize = new Option<string?>("--dequantize")
        {
            Description =
                "Also write every quantized linear's weight as Qzo dequantizes it (CPU backend, F32 [out, in], named <linear>.weight) to " +
                "this safetensors file, for outside checks",
        };
        var force = CommonOptions.Force();
        var command = new Command("inspect",
            "Show a checkpoint's config, quantization method (gptq, aqlm, bitsandbytes nf4/fp4, or dense), tensors (name, dtype, shape, " +
            "bytes) and parameter/memory counts; for a diffusers pipeline (model_index.json) or component folder, each component's " +
            "class, dtype, parameters, bytes on disk and quantization, and the transformer's key config")
        {
            path, revision, all, dequantize, force,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            string p = HubArguments.Model(r.GetValue(path)!, r.GetValue(revision));
            using var outputs = CommonOptions.Outputs();
            outputs.Input(p, "the inspected checkpoint");
            string? dump = outputs.File(r.GetValue(dequantize), "--dequantize", r.GetValue(force));
            if (File.Exists(p))
            {
                using var file = SafetensorsFile.Open(p);
                PrintTensors(file.Tensors, r.GetValue(all));
                return;
            }
            if (Directory.Exists(p) && PipelineInspection.Handles(p))
            {
                if (dump is not null) throw new QzoException("--dequantize applies to a language-model checkpoint, not a diffusers folder");
                InspectPipelineView.Print(PipelineInspection.Of(p));
                return;
            }
            using var checkpoint = Checkpoint.Open(p);
            PrintConfig(checkpoint);
            var infos = checkpoint.Tensors.Names.Select(checkpoint.Tensors.Get).ToList();
            PrintTensors(infos, r.GetValue(all));
            PrintCounts(checkpoint, infos);
            AnsiConsole.MarkupLine(Qzo.Text.Tokenizer.IsPresent(p)
                ? $"tokenizer: {Qzo.Text.Tokenizer.Load(p).VocabSize} tokens"
                : "[yellow]tokenizer: none (no tokenizer.json, tokenizer.model or vocab.json + merges.txt)[/]");
            if (dump is not null) WriteDequantized(checkpoint, dump);
        }));
        return command;
    }

    static void PrintConfig(Checkpoint c)
    {
        var table = new Table().AddColumns("config", "value").Title(Markup.Escape(Path.GetFullPath(c.Directory)));
        foreach (var (key, value) in c.Config.Describe()) table.AddRow(key, Markup.Escape(value));
        table.AddRow("method", Markup.Escape(MethodName(c)));
        table.AddRow("quantization", Markup.Escape(c.Quantization?.Description ?? "none (dense)"));
        table.AddRow("files", string.Join(", ", c.Tensors.Files.Select(f => Path.GetFileName(f.Path))));
        AnsiConsole.Write(table);
    }

    static void PrintTensors(IReadOnlyList<TensorInfo> tensors, bool all)
    {
        var table = new Table().AddColumns("tensor", "dtype", "shape", "bytes");
        int hidden = 0;
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            bool firstLayerOrOther = !t.Name.StartsWith("model.layers.", StringComparison.Ordinal) || t.Name.StartsWith("model.layers.0.",
                StringComparison.Ordinal);
            if (!all && !firstLayerOrOther) { hidden++; continue; }
            table.AddRow(Markup.Escape(t.Name), t.DType.Name(), Markup.Escape($"[{string.Join(", ", t.Shape)}]"),
                CommonOptions.Bytes(t.ByteLength));
        }
        AnsiConsole.Write(table);
        if (hidden > 0) AnsiConsole.MarkupLine($"({hidden} tensors of layers 1 and up not shown; --tensors lists them)");
    }

    /// <summary>gptq, aqlm, bitsandbytes nf4 / fp4, or dense.</summary>
    static string MethodName(Checkpoint c) => c.Quantization switch
    {
        null => "dense",
        BitsAndBytesConfig b => $"bitsandbytes {FourBitTypes.Name(b.QuantType)}",
        var q => q.QuantMethod,
    };

    static void PrintCounts(Checkpoint c, List<TensorInfo> infos)
    {
        var role = infos.ToDictionary(t => t.Name, t => c.Quantization?.RoleOf(c.Tensors, t.Name) ?? QuantizedTensorRole.Unquantized);
        var quantized = infos.Where(t => role[t.Name] == QuantizedTensorRole.Frozen).ToList();
        var scales = infos.Where(t => role[t.Name] == QuantizedTensorRole.Scale).ToList();
        var other = infos.Where(t => role[t.Name] == QuantizedTensorRole.Unquantized).ToList();
        long quantizedWeights = c.Quantization?.QuantizedWeightCount(c.Tensors) ?? 0;
        var table = new Table().AddColumns("part", "values", "bytes on disk");
        if (c.IsQuantized)
        {
            table.AddRow($"quantized weights ({Markup.Escape(MethodName(c))} codes and their bookkeeping)",
                $"{quantizedWeights:N0} weights", CommonOptions.Bytes(quantized.Sum(t => t.ByteLength)));
            table.AddRow("scales (what QZO trains)", $"{scales.Sum(t => t.ElementCount):N0}",
                CommonOptions.Bytes(scales.Sum(t => t.ByteLength)));
        }
        table.AddRow("unquantized tensors", $"{other.Sum(t => t.ElementCount):N0}", CommonOptions.Bytes(other.Sum(t => t.ByteLength)));
        table.AddRow("[bold]total[/]", $"{quantizedWeights + scales.Sum(t => t.ElementCount) + other.Sum(t => t.ElementCount):N0}",
                     $"[bold]{CommonOptions.Bytes(infos.Sum(t => t.ByteLength))}[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"parameters implied by config.json: {c.Config.ParameterCount:N0}");
    }

    /// <summary>Every quantized linear's weight, dequantized by the CPU backend, into one safetensors file.</summary>
    static void WriteDequantized(Checkpoint checkpoint, string path)
    {
        using var backend = new Qzo.Compute.Cpu.CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        var tensors = model.AllLinears.OfType<IQuantizedLinear>().Select(l => new TensorToWrite(l.Name + ".weight", DType.F32,
            [l.OutFeatures, l.InFeatures], DTypes.FromSingle(DType.F32, DequantizedWeights.Of(l, backend)))).ToList();
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt",
            ["producer"] = "qzo inspect --dequantize" });
        AnsiConsole.MarkupLine($"wrote {tensors.Count} dequantized weights to {Markup.Escape(path)}");
    }
}
