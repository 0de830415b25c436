using System.CommandLine;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class InspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A checkpoint folder or one .safetensors file" };
        var all = new Option<bool>("--tensors") { Description = "List every tensor (default: the first layer's and the rest summarised)" };
        var command = new Command("inspect", "Show a checkpoint's config, quantization, tensors (name, dtype, shape, bytes) and parameter/memory counts")
        {
            path, all,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            string p = r.GetValue(path)!;
            if (File.Exists(p))
            {
                using var file = SafetensorsFile.Open(p);
                PrintTensors(file.Tensors, r.GetValue(all));
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
        }));
        return command;
    }

    static void PrintConfig(Checkpoint c)
    {
        var table = new Table().AddColumns("config", "value").Title(Markup.Escape(Path.GetFullPath(c.Directory)));
        foreach (var (key, value) in c.Config.Describe()) table.AddRow(key, Markup.Escape(value));
        table.AddRow("quantization", c.Gptq is { } g
            ? $"GPTQ {g.Bits}-bit, group {g.GroupSize}, {(g.Sym ? "sym" : "asym")}, desc_act {g.DescAct}, format {(g.Format == Qzo.Quantization.GptqCheckpointFormat.Gptq ? "gptq" : "gptq_v2")}"
            : "none (unquantized)");
        table.AddRow("files", string.Join(", ", c.Tensors.Files.Select(f => Path.GetFileName(f.Path))));
        AnsiConsole.Write(table);
    }

    static void PrintTensors(IReadOnlyList<TensorInfo> tensors, bool all)
    {
        var table = new Table().AddColumns("tensor", "dtype", "shape", "bytes");
        int hidden = 0;
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            bool firstLayerOrOther = !t.Name.StartsWith("model.layers.", StringComparison.Ordinal) || t.Name.StartsWith("model.layers.0.", StringComparison.Ordinal);
            if (!all && !firstLayerOrOther) { hidden++; continue; }
            table.AddRow(Markup.Escape(t.Name), t.DType.Name(), Markup.Escape($"[{string.Join(", ", t.Shape)}]"), CommonOptions.Bytes(t.ByteLength));
        }
        AnsiConsole.Write(table);
        if (hidden > 0) AnsiConsole.MarkupLine($"({hidden} tensors of layers 1 and up not shown; --tensors lists them)");
    }

    static void PrintCounts(Checkpoint c, List<TensorInfo> infos)
    {
        bool IsQuantizedPart(TensorInfo t) => t.Name.EndsWith(".qweight") || t.Name.EndsWith(".qzeros") || t.Name.EndsWith(".g_idx");
        bool IsScale(TensorInfo t) => c.IsQuantized && t.Name.EndsWith(".scales");
        var quantized = infos.Where(IsQuantizedPart).ToList();
        var scales = infos.Where(IsScale).ToList();
        var other = infos.Where(t => !IsQuantizedPart(t) && !IsScale(t)).ToList();
        long quantizedWeights = infos.Where(t => t.Name.EndsWith(".qweight")).Sum(t => t.ElementCount * 32 / (c.Gptq?.Bits ?? 32));
        var table = new Table().AddColumns("part", "values", "bytes on disk");
        if (c.IsQuantized)
        {
            table.AddRow($"quantized weights ({c.Gptq!.Bits}-bit codes, zeros, g_idx)", $"{quantizedWeights:N0} weights", CommonOptions.Bytes(quantized.Sum(t => t.ByteLength)));
            table.AddRow("scales (what QZO trains)", $"{scales.Sum(t => t.ElementCount):N0}", CommonOptions.Bytes(scales.Sum(t => t.ByteLength)));
        }
        table.AddRow("unquantized tensors", $"{other.Sum(t => t.ElementCount):N0}", CommonOptions.Bytes(other.Sum(t => t.ByteLength)));
        table.AddRow("[bold]total[/]", $"{quantizedWeights + scales.Sum(t => t.ElementCount) + other.Sum(t => t.ElementCount):N0}",
                     $"[bold]{CommonOptions.Bytes(infos.Sum(t => t.ByteLength))}[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"parameters implied by config.json: {c.Config.ParameterCount:N0}");
    }
}
