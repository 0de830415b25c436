using System.CommandLine;
using Qzo.Quantization;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Unquantized checkpoint folder (bf16, fp16 or fp32)" };
        var output = new Argument<string>("output") { Description = "Folder for the GPTQ-layout checkpoint" };
        var method = new Option<string>("--method") { Description = "Quantizer: rtn (GPTQ layout, round to nearest), nf4 (bitsandbytes 4-bit), aqlm (additive codebooks)", DefaultValueFactory = _ => "rtn" };
        var bits = new Option<int>("--bits") { Description = "2, 3, 4 or 8", DefaultValueFactory = _ => 4 };
        var groupSize = new Option<int>("--group-size") { Description = "Input channels per scale; -1 = one group per output channel", DefaultValueFactory = _ => 128 };
        var asym = new Option<bool>("--asym") { Description = "Asymmetric (a zero point per group) instead of symmetric" };
        var format = new Option<string?>("--format") { Description = "checkpoint_format: gptq (v1, zero stored minus one) or gptq_v2; default gptq, or gptq_v2 with --asym" };
        var force = CommonOptions.Force();
        var command = new Command("quantize", "Quantize an unquantized checkpoint (Llama, Mistral, Qwen2, OPT) into the standard GPTQ layout (decoder-layer linears; embeddings, norms, biases, lm_head copied)")
        {
            input, output, method, bits, groupSize, asym, format, force,
        };
        var formats = new QuantizeFormatOptions();
        formats.AddTo(command);
        command.SetAction(r => CommandRunner.Run(() =>
        {
            if (QuantizeFormatOptions.Handles(r.GetValue(method)!))
            {
                formats.Run(r, r.GetValue(method)!, r.GetValue(input)!, r.GetValue(output)!, r.GetValue(force));
                return;
            }
            if (r.GetValue(method) != "rtn") throw new QzoException($"--method '{r.GetValue(method)}' is not available; choose rtn, nf4 or aqlm");
            bool sym = !r.GetValue(asym);
            var checkpointFormat = r.GetValue(format) switch
            {
                null => sym ? GptqCheckpointFormat.Gptq : GptqCheckpointFormat.GptqV2,
                "gptq" => GptqCheckpointFormat.Gptq,
                "gptq_v2" => GptqCheckpointFormat.GptqV2,
                var other => throw new QzoException($"--format must be gptq or gptq_v2, got '{other}'"),
            };
            var config = GptqConfig.Create(r.GetValue(bits), r.GetValue(groupSize), sym, checkpointFormat);
            ProgressDisplay.Run("quantizing", report =>
                CheckpointQuantizer.QuantizeRtn(r.GetValue(input)!, r.GetValue(output)!, config, r.GetValue(force), new Progress<double>(f => report(f, null))));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(r.GetValue(output)!)}: GPTQ {config.Bits}-bit, group {config.GroupSize}, {(sym ? "sym" : "asym")} (rtn)");
        }));
        return command;
    }
}
