using System.Diagnostics;
using System.Text.Json.Nodes;
using Qzo.Compute;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Training;
using Spectre.Console;

namespace Qzo.Cli.Runs;

/// <summary>
/// `qzo eval --task`: zero-shot or few-shot (the first K examples of the train sample as in-context demonstrations)
/// scoring of a checkpoint on a task's test (or dev/train) sample; results.json and the predictions in a run folder.
/// </summary>
static class TaskEvalJob
{
    /// <param name="run">the run folder, claimed (checked, locked and emptied) by the caller; null for none.</param>
    public static JsonObject Run(TaskRunSettings s, string? run, IBackend backend, bool quiet = false)
    {
        var clock = Stopwatch.StartNew();
        using var work = TaskWorkspace.Open(s, backend, TrainingScope.None, quiet);
        var items = s.Split switch
        {
            "test" => work.Test, "dev" => work.Dev, "train" => work.Train,
            _ => throw new QzoException($"--split must be test, dev or train, got '{s.Split}'"),
        };
        if (s.Shots > work.Train.Count) throw new QzoException($"--shots {s.Shots}: the train sample has only {work.Train.Count} examples");
        var demonstrations = work.Train.Take(s.Shots).ToList();
        if (run is not null)
        {
            var config = s.ToJson();
            config["facts"] = work.Facts(backend);
            RunFolder.WriteJson(run, RunFolder.Config, config);
        }
        var evaluation = TaskWorkspace.Show(quiet, $"{s.Task.Name} ({s.Split})", report =>
            work.Evaluator.Evaluate(items, demonstrations, new Progress<double>(f => report(f, null))));
        var peak = backend.Memory.PeakBreakdown();
        var results = new JsonObject
        {
            ["method"] = s.Method, ["model"] = Path.GetFileName(s.Model),
                ["model_description"] = TaskWorkspace.Describe(work.Session.Checkpoint),
            ["task"] = s.Task.Name, ["metric"] = s.Task.MetricName, ["split"] = s.Split, ["shots"] = s.Shots,
            ["test"] = EvaluationJson.Write(evaluation.Result), ["steps"] = 0,
            ["wall_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
            ["peak_bytes"] = new JsonObject(peak.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["examples"] = new JsonObject { ["train"] = work.Train.Count, ["dev"] = work.Dev.Count, ["test"] = work.Test.Count },
        };
        if (run is not null)
        {
            RunFolder.WriteJson(run, RunFolder.Results, results);
            TaskFinetuneJob.WritePredictions(run, evaluation.Predictions);
            RunPlots.Draw(run, $"{s.Method} {s.Task.Name}", peak);
        }
        if (!quiet)
        {
            var r = evaluation.Result;
            var table = new Table().AddColumns("metric", "value");
            table.AddRow("task", s.Task.Name);
            table.AddRow("examples", r.Examples.ToString());
            if (r.Accuracy is double a) table.AddRow("accuracy", $"{100 * a:F2}");
            if (r.Loss is double l) table.AddRow("classification loss", $"{l:F5}");
            if (r.ExactMatch is double em) table.AddRow("exact match", $"{100 * em:F2}");
            if (r.F1 is double f1) table.AddRow("F1", $"{100 * f1:F2}");
            AnsiConsole.Write(table);
        }
        return results;
    }
}
