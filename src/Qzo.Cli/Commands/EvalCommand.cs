using System.CommandLine;
using System.Text.Json.Nodes;
using Qzo.Models;
using Qzo.Tasks;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Checkpoint folder" };
        var data = new Option<string>("--data") { Description = "Examples to score (JSONL)", Required = true };
        var batch = CommonOptions.BatchSize(16);
        var maxLength = CommonOptions.MaxLength();
        var json = new Option<string?>("--json") { Description = "Write the metrics to this JSON file" };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N examples" };
        var template = CommonOptions.Template();
        var verbalizers = CommonOptions.Verbalizers();
        var device = CommonOptions.Device();
        var command = new Command("eval", "Score a checkpoint on held-out data: mean loss and perplexity, and accuracy where rows have labels")
        {
            model, data, batch, maxLength, json, limit, template, verbalizers, device,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!);
            using var session = ProgressDisplay.Run("loading", report =>
                ModelSession.Open(r.GetValue(model)!, backend, TrainingScope.None, new Progress<double>(f => report(f, null))));
            var examples = JsonlDataset.Load(r.GetValue(data)!, session.Tokenizer, r.GetValue(maxLength),
                CommonOptions.Classification(r.GetValue(template), r.GetValue(verbalizers)), r.GetValue(limit));
            var result = ProgressDisplay.Run("evaluating", report =>
                Evaluator.Evaluate(session.Model, examples, r.GetValue(batch), session.PadId, new Progress<double>(f => report(f, null))));

            var table = new Table().AddColumns("metric", "value");
            table.AddRow("examples", result.Examples.ToString());
            table.AddRow("scored tokens", result.ScoredTokens.ToString());
            table.AddRow(result.Accuracy is null ? "mean loss (nats/token)" : "classification loss", $"{result.Loss:F5}");
            if (result.Perplexity is double p) table.AddRow("perplexity", $"{p:F4}");
            if (result.Accuracy is double a) table.AddRow("accuracy", $"{a:P2}");
            AnsiConsole.Write(table);
            if (r.GetValue(json) is string path)
                Qzo.IO.AtomicFile.WriteAllText(path, new JsonObject
                {
                    ["model"] = Path.GetFullPath(r.GetValue(model)!), ["data"] = Path.GetFullPath(r.GetValue(data)!),
                    ["examples"] = result.Examples, ["scored_tokens"] = result.ScoredTokens, ["loss"] = result.Loss,
                    ["perplexity"] = result.Perplexity, ["accuracy"] = result.Accuracy,
                }.ToJsonString(new() { WriteIndented = true }) + "\n");
        }));
        return command;
    }
}
