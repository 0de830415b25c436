using System.CommandLine;
using System.Text.Json.Nodes;
using Qzo.Cli.Runs;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Tasks.Definitions;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Checkpoint folder" + HubArguments.ModelHelp };
        var revision = HubArguments.Revision();
        var batch = CommonOptions.BatchSize(16);
        var maxLength = CommonOptions.MaxLength();
        var json = new Option<string?>("--json") { Description = "Write the metrics to this JSON file" };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N examples (JSONL data)" }.Positive();
        var shots = new Option<int>("--shots")
            { Description = "With --task: in-context demonstrations, the first K examples of the train sample (0: zero-shot)",
            DefaultValueFactory = _ => 0 }.NonNegative();
        var split = new Option<string>("--split")
            { Description = "With --task: which sample to score: test (from the validation split under mezo sampling), dev or train",
            DefaultValueFactory = _ => "test" };
        var template = CommonOptions.Template();
        var verbalizers = CommonOptions.Verbalizers();
        var device = CommonOptions.Device();
        var compute = CommonOptions.Compute();
        var force = CommonOptions.Force();
        var task = new TaskOptions();
        task.Data.Description = "Examples to score: a JSONL file, or with --task the dataset folder (Hub Parquet files or JSONL exports)";
        var command = new Command("eval",
            "Score a checkpoint: on a task (--task: accuracy or EM/F1, zero- or few-shot), or on JSONL data (loss, perplexity, accuracy " +
            "where rows have labels)")
        {
            model, revision, batch, maxLength, json, limit, shots, split, template, verbalizers, device, compute, force,
        };
        foreach (var option in task.All) command.Options.Add(option);
        command.SetAction(r => CommandRunner.Run(() =>
        {
            string data = r.GetValue(task.Data)
                ?? throw new QzoException("eval needs --data (a JSONL file, or a dataset folder with --task)");
            string modelPath = HubArguments.Model(r.GetValue(model)!, r.GetValue(revision));
            if (r.GetValue(task.Task) is not null) data = task.DataFolder(r, data);
            else if (r.GetValue(task.Subset) is not null || r.GetValue(task.DataRevision) is not null)
                throw new QzoException("--subset and --data-revision go with --task (a Hub dataset); JSONL data is a file");
            using var outputs = CommonOptions.Outputs();
            outputs.Input(modelPath, "the model").Input(data, "the data");
            if (r.GetValue(task.Task) is string taskName)
            {
                var definition = TaskCatalog.Resolve(taskName);
                var settings = new TaskRunSettings
                {
                    Command = "eval", Model = Path.GetFullPath(modelPath), Task = definition,
                    Data = TaskDataSettings.Resolve(definition, data, r.GetValue(task.Sampling)!, r.GetValue(task.NumTrain),
                        r.GetValue(task.NumDev),
                                                    r.GetValue(task.NumEval), r.GetValue(task.DataSeed)),
                    MaxLength = r.GetValue(maxLength), EvalBatchSize = r.GetValue(batch), MaxNewTokens = r.GetValue(task.MaxNewTokens),
                    Shots = r.GetValue(shots), Split = r.GetValue(split)!, Device = r.GetValue(device)!,
                };
                string? run = r.GetValue(task.Run) is string runFolder ? outputs.WorkFolder(runFolder, "--run", r.GetValue(force)) : null;
                string? resultsPath = outputs.File(r.GetValue(json), "--json", r.GetValue(force));
                using var taskBackend = CommonOptions.CreateBackend(settings.Device);
                taskBackend.QuantizedLinearPrecision = CommonOptions.Precision(r.GetValue(compute)!, "--compute");
                var results = TaskEvalJob.Run(settings, run, taskBackend);
                if (resultsPath is not null) Qzo.IO.AtomicFile.WriteAllText(resultsPath,
                    results.ToJsonString(new() { WriteIndented = true }) + "\n");
                return;
            }

            if (r.GetValue(task.Run) is not null) throw new QzoException("--run goes with --task; for JSONL data use --json FILE");
            string? jsonPath = outputs.File(r.GetValue(json), "--json", r.GetValue(force));
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!);
            backend.QuantizedLinearPrecision = CommonOptions.Precision(r.GetValue(compute)!, "--compute");
            using var session = ProgressDisplay.Run("loading", report =>
                ModelSession.Open(modelPath, backend, TrainingScope.None, new Progress<double>(f => report(f, null))));
            var examples = JsonlDataset.LoadScored(data, session.Tokenizer, r.GetValue(maxLength),
                CommonOptions.Classification(r.GetValue(template), r.GetValue(verbalizers)), r.GetValue(limit));
            var result = ProgressDisplay.Run("evaluating", report =>
                Evaluator.Evaluate(session.Model, examples.Examples, r.GetValue(batch), session.PadId,
                    new Progress<double>(f => report(f, null))));

            var table = new Table().AddColumns("metric", "value");
            table.AddRow("examples", result.Examples.ToString());
            table.AddRow("scored tokens", result.ScoredTokens.ToString());
            if (examples.SkippedNote is string skipped) table.AddRow("skipped", skipped);
            table.AddRow(result.Accuracy is null ? "mean loss (nats/token)" : "classification loss", $"{result.Loss:F5}");
            if (result.Perplexity is double p) table.AddRow("perplexity", $"{p:F4}");
            if (result.Accuracy is double a) table.AddRow("accuracy", $"{a:P2}");
            AnsiConsole.Write(table);
            if (jsonPath is not null)
                Qzo.IO.AtomicFile.WriteAllText(jsonPath, new JsonObject
                {
                    ["model"] = Path.GetFullPath(modelPath), ["data"] = Path.GetFullPath(data),
                    ["examples"] = result.Examples, ["skipped_rows"] = examples.Skipped, ["scored_tokens"] = result.ScoredTokens,
                        ["loss"] = result.Loss,
                    ["perplexity"] = result.Perplexity, ["accuracy"] = result.Accuracy,
                }.ToJsonString(new() { WriteIndented = true }) + "\n");
        }));
        return command;
    }
}
