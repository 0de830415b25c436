using System.Diagnostics;
using System.Text.Json.Nodes;
using Qzo.Cli.Commands;
using Qzo.Compute;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Training;
using Spectre.Console;

namespace Qzo.Cli.Runs;

/// <summary>
/// `qzo finetune --task`: train on the task's train sample (loss on the answer tokens only), evaluate the task metric
/// on dev every N steps keeping the best state, checkpoint the run every N steps, then score test with the best state
/// and write results.json, the plots and the tuned model into the run folder. `--resume` goes on from the checkpoint.
/// </summary>
static class TaskFinetuneJob
{
    /// <param name="run">the run folder, claimed (checked, locked and emptied) by the caller.</param>
    public static JsonObject Start(TaskRunSettings settings, string run, IBackend backend, bool quiet = false) =>
        Execute(settings, run, backend, resuming: false, quiet);

    /// <summary>The settings of a run folder that can be resumed.</summary>
    public static TaskRunSettings ReadSettings(string runFolder)
    {
        string run = Path.GetFullPath(runFolder);
        var settings = TaskRunSettings.FromJson(RunFolder.ReadJson(run, RunFolder.Config), Path.Combine(run, RunFolder.Config));
        if (settings.Command != "finetune") throw new QzoException($"{run}: an {settings.Command} run has nothing to resume");
        if (File.Exists(Path.Combine(run, RunFolder.Results))) throw new QzoException(
            $"{run}: the run has finished (results.json is there)");
        return settings;
    }

    /// <summary>
    /// Goes on from the run's last checkpoint. A run that recorded steps but never wrote a checkpoint cannot go on:
    /// it starts again from step 0 only with <paramref name="restart"/> (--force); one that recorded none starts afresh.
    /// </summary>
    /// <param name="run">the run folder, claimed (checked and locked) by the caller.</param>
    public static JsonObject Resume(string run, TaskRunSettings settings, Func<string, IBackend> backendFor, bool restart,
        bool quiet = false)
    {
        bool hasState = File.Exists(Path.Combine(run, RunFolder.State));
        if (!hasState)
        {
            int steps = RecordedSteps(Path.Combine(run, RunFolder.Metrics));
            if (steps > 0 && !restart)
                throw new QzoException(
                    $"{run}: {steps} steps were recorded but no checkpoint ({RunFolder.State}) was written before the run " +
                                       $"stopped (one is saved every {settings.CheckpointEvery} steps); pass --force to start it again " +
                                       "from step 0");
            Say(quiet, $"{run}: no checkpoint to go on from; starting from step 0");
        }
        using var backend = backendFor(settings.Device);
        return Execute(settings, run, backend, resuming: hasState, quiet);
    }

    static int RecordedSteps(string metrics) => !File.Exists(metrics) ? 0
        : File.ReadLines(metrics).Count(line => line.StartsWith("{\"type\":\"step\"", StringComparison.Ordinal));

    static JsonObject Execute(TaskRunSettings s, string run, IBackend backend, bool resuming, bool quiet)
    {
        var clock = Stopwatch.StartNew();
        var phases = new PhaseClock();
        var o = s.Optimizer!;
        var scope = LanguageModelTraining.Scope(o);
        using var work = TaskWorkspace.Open(s, backend, scope, quiet);
        phases.End("load");
        var model = work.Session.Model;
        if (work.Train.Count == 0) throw new QzoException($"{s.Data.Folder}: the train sample is empty");

        string statePath = Path.Combine(run, RunFolder.State);
        var trainable = LanguageModelTraining.TrainableSet(model);
        RunState? state = resuming ? RunCheckpoint.LoadToResume(statePath, trainable, o.Steps) : null;
        if (!resuming)
        {
            var config = s.ToJson();
            config["facts"] = work.Facts(backend);
            RunFolder.WriteJson(run, RunFolder.Config, config);
        }
        Say(quiet, $"{s.Method.ToUpperInvariant()} on {s.Task.Name}: {work.Train.Count} train / {work.Dev.Count} dev / {work.Test.Count} " +
            "test examples; " +
                   $"{model.Trainable.Count} trainable tensors; {o.Steps} steps of batch {o.BatchSize}, lr {o.LearningRate:G3}, eps " +
                   $"{o.Epsilon:G3}, " +
                   $"DDC {(o.ClipThreshold is float c ? $"C={c:G3}" : "off")}" + (state is null ? "" : $"; resuming at step {state.Step}"));

        EvaluationResult testBefore;
        if (state is null)
        {
            testBefore = TaskWorkspace.Show(quiet, "test before training", report => work.Evaluator.Evaluate(work.Test,
                progress: new Progress<double>(f => report(f, null)))).Result;
            RunFolder.WriteJson(run, RunFolder.TestBefore, EvaluationJson.Write(testBefore));
            phases.End("test_before");
        }
        else testBefore = EvaluationJson.Read(RunFolder.ReadJson(run, RunFolder.TestBefore), Path.Combine(run, RunFolder.TestBefore))!;

        var examples = work.Train.Select(work.Encoder.TrainingExample).ToList();
        Func<EvaluationResult>? validate = work.Dev.Count == 0 ? null : () => work.Evaluator.Evaluate(work.Dev).Result;
        using var metrics = new MetricsWriter(Path.Combine(run, RunFolder.Metrics), state?.MetricsBytes);
        var checkpointing = RunCheckpointing.ToFile(statePath, s.CheckpointEvery, trainable);
        backend.QuantizedLinearPrecision = o.Compute;
        var objective = PrecisionComparison<Example>.Wrap(new LanguageModelObjective(model, work.Session.PadId), backend, o);
        var loop = new FineTuneLoop<Example>(objective, trainable, o, examples, validate, metrics, s.KeepBest, checkpointing);
        phases.End("setup");
        var summary = TrainingDisplay.Run(quiet, loop, state);
        phases.End("train");

        var test = TaskWorkspace.Show(quiet, "test", report => work.Evaluator.Evaluate(work.Test,
            progress: new Progress<double>(f => report(f, null))));
        WritePredictions(run, test.Predictions);
        phases.End("test");
        if (s.SaveModel)
        {
            CheckpointExporter.Export(work.Session.Checkpoint, model, Path.Combine(run, RunFolder.Model), overwrite: true);
            phases.End("save");
        }

        var peak = backend.Memory.PeakBreakdown();
        var results = new JsonObject
        {
            ["method"] = s.Method, ["model"] = Path.GetFileName(s.Model),
                ["model_description"] = TaskWorkspace.Describe(work.Session.Checkpoint),
            ["task"] = s.Task.Name, ["metric"] = s.Task.MetricName,
            ["test"] = EvaluationJson.Write(test.Result), ["test_before"] = EvaluationJson.Write(testBefore),
            ["validation_before"] = summary.Before is null ? null : EvaluationJson.Write(summary.Before),
            ["validation_best"] = summary.Best is null ? null : EvaluationJson.Write(summary.Best),
            ["best_step"] = summary.BestStep, ["steps"] = summary.Steps,
            ["train_seconds"] = Math.Round(summary.Seconds, 3),
            ["seconds_per_step"] = summary.Steps == 0 ? null : Math.Round(summary.Seconds / summary.Steps, 5),
            ["wall_seconds"] = Math.Round(clock.Elapsed.TotalSeconds + (state?.ElapsedSeconds ?? 0), 3),
            ["phase_seconds"] = phases.ToJson(),
            ["trainable_tensors"] = model.Trainable.Count, ["trainable_values"] = model.Trainable.Sum(p => p.Length),
            ["peak_bytes"] = new JsonObject(peak.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["examples"] = new JsonObject { ["train"] = work.Train.Count, ["dev"] = work.Dev.Count, ["test"] = work.Test.Count },
            ["resumed"] = resuming,
            ["compute"] = o.Compute.ToString().ToLowerInvariant(),
            ["fp8_declined_shapes"] = new JsonArray(backend.Fp8DeclinedShapes.Select(shape => (JsonNode)shape).ToArray()),
            ["compare_compute"] = (objective as PrecisionComparison<Example>)?.ToJson(),
        };
        RunFolder.WriteJson(run, RunFolder.Results, results);
        var plots = RunPlots.Draw(run, $"{s.Method.ToUpperInvariant()} {s.Task.Name}", peak);
        if (!quiet) Print(s, summary, testBefore, test.Result, run, plots, backend);
        return results;
    }

    internal static void WritePredictions(string run, IReadOnlyList<TaskPrediction> predictions) =>
        Qzo.IO.AtomicFile.WriteAllText(Path.Combine(run, RunFolder.Predictions), string.Concat(predictions.Select(p =>
            new JsonObject { ["row"] = p.Where, ["prediction"] = p.Prediction, ["correct"] = p.Correct, ["f1"] = p.F1 }.ToJsonString()
                + "\n")));

    static void Print(TaskRunSettings s, TrainingSummary summary, EvaluationResult testBefore, EvaluationResult test, string run,
                      IReadOnlyList<string> plots, IBackend backend)
    {
        string metric = s.Task.MetricName;
        static string Value(EvaluationResult? e) => e?.MetricValue is double v ? $"{100 * v:F2}" : "-";
        var table = new Table().AddColumns("", $"dev {metric}", $"test {metric}");
        table.AddRow("before", Value(summary.Before), Value(testBefore));
        table.AddRow($"kept (step {summary.BestStep})", Value(summary.Best), Value(test));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(
            $"{summary.Steps} steps in {summary.Seconds:F1} s on {Markup.Escape(backend.Name)}; run folder {Markup.Escape(run)} " +
                               $"({string.Join(", ", plots.Select(Path.GetFileName))})");
        MemoryTable.Print(backend);
    }

    static void Say(bool quiet, string text)
    {
        if (!quiet) AnsiConsole.MarkupLine(Markup.Escape(text));
    }
}
