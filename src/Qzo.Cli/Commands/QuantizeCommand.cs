using System.CommandLine;
using Qzo.Models.Architectures;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input")
            { Description = "Unquantized checkpoint folder (bf16, fp16 or fp32), or a diffusers pipeline or component folder (nf4)" +
                            HubArguments.ModelHelp };
        var revision = HubArguments.Revision();
        var output = new Argument<string>("output") { Description = "Folder for the quantized checkpoint (the same layout as the input)" };
        var method = new Option<string>("--method")
            { Description =
            "Quantizer: rtn (GPTQ layout, round to nearest), gptq (with calibration data), nf4 (bitsandbytes 4-bit; the one for " +
            "diffusers folders), aqlm (additive codebooks)", DefaultValueFactory = _ => "rtn" };
        var bits = new Option<int>("--bits") { Description = "2, 3, 4 or 8", DefaultValueFactory = _ => 4 }.OneOf(2, 3, 4, 8);
        var groupSize = new Option<int>("--group-size") { Description = "Input channels per scale; -1 = one group per output channel",
            DefaultValueFactory = _ => 128 }.GroupSize();
        var asym = new Option<bool>("--asym") { Description = "Asymmetric (a zero point per group) instead of symmetric" };
        var symmetric = new Option<bool>("--sym") { Description = "Symmetric (the default): zero point 2^(bits-1)" };
        var gptq = new GptqOptions();
        var format = new Option<string?>("--format")
            { Description = "checkpoint_format: gptq (v1, zero stored minus one) or gptq_v2; default gptq, or gptq_v2 with --asym" };
        var force = CommonOptions.Force();
        var command = new Command("quantize",
            $"Quantize an unquantized checkpoint ({ArchitectureRegistry.Names}) into the standard GPTQ layout (decoder-layer " +
            "linears; embeddings, norms, biases, lm_head copied), or bitsandbytes NF4/FP4 or AQLM with --method. With --method nf4 it " +
            "also quantizes a Stable Diffusion 3 pipeline folder (model_index.json; --components, default the transformer) or one " +
            "component folder (transformer/, text_encoder*/, vae/) into bitsandbytes Linear4bit tensors as diffusers saves them")
        {
            input, revision, output, method, bits, groupSize, asym, format, force, symmetric,
        };
        foreach (var option in gptq.All) command.Options.Add(option);
        var formats = new QuantizeFormatOptions();
        formats.AddTo(command);
        var diffusers = new QuantizeDiffusers();
        command.Options.Add(diffusers.Components);
        command.SetAction(r => CommandRunner.Run(() =>
        {
            string chosen = r.GetValue(method)!;
            if (chosen is not ("rtn" or "gptq") && !QuantizeFormatOptions.Handles(chosen))
                throw new QzoException($"--method '{chosen}' is not available; choose rtn, gptq, nf4 or aqlm");
            string inputPath = HubArguments.Model(r.GetValue(input)!, r.GetValue(revision));
            using var outputs = CommonOptions.Outputs();
            outputs.Input(inputPath, "the input checkpoint");
            if (QuantizeDiffusers.Handles(inputPath))
            {
                string folder = outputs.Folder(r.GetValue(output)!, "output", r.GetValue(force));
                diffusers.Run(r, command, chosen, formats, inputPath, folder, r.GetValue(force));
                return;
            }
            diffusers.CheckNotGiven(r);
            gptq.ClaimFiles(r, outputs, r.GetValue(force));
            string target = outputs.Folder(r.GetValue(output)!, "output", r.GetValue(force));
            if (QuantizeFormatOptions.Handles(chosen))
            {
                if (gptq.GptqOnlyGiven(r).FirstOrDefault() is string gptqFlag) throw new QzoException(
                    $"{gptqFlag} applies to --method gptq only");
                var data = gptq.MeasurementData(r, chosen, inputPath);
                using var measuring = gptq.CreateBackend(r, chosen);
                formats.Run(r, chosen, inputPath, target, r.GetValue(force));
                gptq.Measure(r, data, measuring, chosen, inputPath, target);
                return;
            }
            if (r.GetValue(asym) && r.GetValue(symmetric)) throw new QzoException("--sym and --asym contradict each other");
            if (chosen != "gptq" && gptq.GptqOnlyGiven(r).FirstOrDefault() is string gptqOnly) throw new QzoException(
                $"{gptqOnly} applies to --method gptq only");
            bool sym = !r.GetValue(asym);
            var checkpointFormat = r.GetValue(format) switch
            {
                null => sym ? GptqCheckpointFormat.Gptq : GptqCheckpointFormat.GptqV2,
                "gptq" => GptqCheckpointFormat.Gptq,
                "gptq_v2" => GptqCheckpointFormat.GptqV2,
                var other => throw new QzoException($"--format must be gptq or gptq_v2, got '{other}'"),
            };
            if (chosen == "gptq")
            {
                var gptqConfig = gptq.Config(r, r.GetValue(bits), r.GetValue(groupSize), sym, checkpointFormat);
                using var backend = gptq.CreateBackend(r, chosen)!;
                gptq.Run(r, inputPath, target, gptqConfig, r.GetValue(force), backend);
                AnsiConsole.MarkupLine(
                    $"wrote {Markup.Escape(target)}: GPTQ {gptqConfig.Bits}-bit, group {gptqConfig.GroupSize}, " +
                    $"{(sym ? "sym" : "asym")}{(gptqConfig.DescAct ? ", act-order" : "")} (gptq)");
                return;
            }
            var config = GptqConfig.Create(r.GetValue(bits), r.GetValue(groupSize), sym, checkpointFormat);
            var measurement = gptq.MeasurementData(r, chosen, inputPath);
            using var measurementBackend = gptq.CreateBackend(r, chosen);
            ProgressDisplay.Run("quantizing", report =>
                CheckpointQuantizer.QuantizeRtn(inputPath, target, config, r.GetValue(force),
                    new Progress<double>(f => report(f, null))));
            AnsiConsole.MarkupLine(
                $"wrote {Markup.Escape(target)}: GPTQ {config.Bits}-bit, group {config.GroupSize}, {(sym ? "sym" : "asym")} (rtn)");
            gptq.Measure(r, measurement, measurementBackend, chosen, inputPath, target);
        }));
        return command;
    }
}
