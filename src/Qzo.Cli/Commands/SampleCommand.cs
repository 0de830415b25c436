using System.CommandLine;
using System.Text.Json.Nodes;
using Qzo.Models;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>`qzo sample`: sequences drawn from a checkpoint, as JSONL data for eval, finetune or quantize --calibration.</summary>
static class SampleCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Checkpoint folder" + HubArguments.ModelHelp };
        var revision = HubArguments.Revision();
        var output = new Option<string>("--out") { Description = "JSONL file to write", Required = true };
        var count = new Option<int>("--count") { Description = "Sequences", DefaultValueFactory = _ => 64 }.Positive();
        var length = new Option<int>("--length") { Description = "Tokens per sequence, BOS included",
            DefaultValueFactory = _ => 64 }.AtLeast(2);
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature (0 = greedy)",
            DefaultValueFactory = _ => 1f }.NonNegative();
        var seed = new Option<ulong>("--seed") { Description = "Seed of the draws", DefaultValueFactory = _ => 0UL };
        var text = new Option<bool>("--text")
            { Description = "Write each sequence as decoded text ({\"text\": ...}) instead of token ids ({\"input_ids\": [...]})" };
        var device = CommonOptions.Device();
        var force = CommonOptions.Force();
        var command = new Command("sample", "Draw sequences from a checkpoint (ancestral sampling from BOS) into a JSONL file")
        {
            model, revision, output, count, length, temperature, seed, text, device, force,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            int n = r.GetValue(count), t = r.GetValue(length);
            string modelPath = HubArguments.Model(r.GetValue(model)!, r.GetValue(revision));
            using var outputs = CommonOptions.Outputs();
            outputs.Input(modelPath, "the model");
            string target = outputs.File(r.GetValue(output)!, "--out", r.GetValue(force))!;
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!);
            using var session = ModelSession.Open(modelPath, backend, TrainingScope.None);
            int bos = session.Tokenizer.BosId ?? session.Checkpoint.Config.BosTokenId
                ?? throw new QzoException($"{modelPath}: neither the tokenizer nor config.json names a BOS token to start from");
            var prompts = Enumerable.Range(0, n).Select(_ => new[] { bos }).ToList();
            var sequences = ProgressDisplay.Run("sampling", report =>
                Sampling.Sample(session.Model, prompts, t - 1, r.GetValue(temperature), r.GetValue(seed),
                    progress: new Progress<double>(f => report(f, null))));
            var lines = sequences.Select(ids => (r.GetValue(text)
                ? new JsonObject { ["text"] = session.Tokenizer.Decode(ids) }
                : new JsonObject { ["input_ids"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()) }).ToJsonString());
            Qzo.IO.AtomicFile.WriteAllText(target, string.Join("\n", lines) + "\n");
            AnsiConsole.MarkupLine($"wrote {n} sequences of {t} tokens to {Markup.Escape(r.GetValue(output)!)}");
        }));
        return command;
    }
}
