using System.Diagnostics;
using System.Text.Json.Nodes;
using Qzo.Cli.Commands;
using Qzo.Compute;
using Qzo.Diffusion.Training;
using Qzo.Training;
using Spectre.Console;

namespace Qzo.Cli.Runs;

/// <summary>
/// A text-to-image QZO run (docs/diffusion-training.md, "Training run"): the NF4 absmax of an SD3 pipeline's transformer
/// trained on cached image–caption pairs, in a run folder laid out as a task run's: config.json, metrics.jsonl,
/// state.safetensors (every --checkpoint-every steps), results.json, loss.png, validation.png, memory.png, plus
/// samples/ (a grid before training, every --sample-every steps and after the last) and model/ (the tuned pipeline).
/// `--resume` goes on from the checkpoint with the settings of config.json.
/// </summary>
static class Sd3FinetuneJob
{
    public const string Kind = "sd3";

    /// <summary>Starts a run in <paramref name="run"/>, a folder the caller has claimed (checked, locked and emptied).</summary>
    /// <param name="model">a StableDiffusion3Pipeline folder whose transformer is bitsandbytes 4-bit</param>
    /// <param name="data">what config.json records about the data (e.g. the cache folder), so a resume can find it again</param>
    /// <param name="negative">the empty prompt's cached embeddings, for guided samples (--sample-guidance &gt; 1)</param>
    public static JsonObject Start(string model, IReadOnlyList<CachedImageCaption> train, IReadOnlyList<CachedImageCaption> validation,
                                   Sd3FinetuneSettings settings, string run, IBackend backend, JsonNode? data = null,
                                   CachedImageCaption? negative = null, bool quiet = false) =>
        Execute(Path.GetFullPath(model), train, validation, settings, run, backend, data, negative, resuming: false, quiet);

    /// <summary>Whether a run folder holds an SD3 run (config.json's "kind"), for a --resume that must pick its job.</summary>
    public static bool IsSd3Run(string run) =>
        File.Exists(Path.Combine(run, RunFolder.Config)) && (string?)RunFolder.ReadJson(run, RunFolder.Config)["kind"] == Kind;

    /// <summary>The model, settings and data description of a run folder that can be resumed.</summary>
    public static (string Model, Sd3FinetuneSettings Settings, JsonNode? Data) ReadSettings(string runFolder)
    {
        string run = Path.GetFullPath(runFolder), source = Path.Combine(run, RunFolder.Config);
        var config = RunFolder.ReadJson(run, RunFolder.Config);
        if ((string?)config["kind"] != Kind) throw new QzoException($"{source}: not an SD3 fine-tuning run");
        if (File.Exists(Path.Combine(run, RunFolder.Results)))
            throw new QzoException($"{run}: the run has finished (results.json is there)");
        var model = config["model"] is JsonValue v && v.TryGetValue(out string? m) ? m : throw new QzoException($"{source}: no 'model'");
        return (model, Sd3RunSettingsJson.Read(config["settings"] ?? throw new QzoException($"{source}: no 'settings'"), source),
                config["data"]?.DeepClone());
    }

    /// <summary>
    /// Goes on from the run's last checkpoint with the same data (the caller opens it again from config.json's "data"; the
    /// counts must match). Without a checkpoint, a run that recorded steps starts over only with <paramref name="restart"/>.
    /// </summary>
    public static JsonObject Resume(string run, IReadOnlyList<CachedImageCaption> train, IReadOnlyList<CachedImageCaption> validation,
                                    IBackend backend, bool restart = false, CachedImageCaption? negative = null, bool quiet = false)
    {
        var (model, settings, data) = ReadSettings(run);
        var config = RunFolder.ReadJson(run, RunFolder.Config);
        int? trainCount = (int?)config["examples"]?["train"], validationCount = (int?)config["examples"]?["validation"];
        if (trainCount != train.Count || validationCount != validation.Count)
            throw new QzoException($"{run}: the run was started on {trainCount} train / {validationCount} validation pairs, not " +
                                   $"{train.Count} / {validation.Count}; resume it with the same data");
        bool hasState = File.Exists(Path.Combine(run, RunFolder.State));
        if (!hasState)
        {
            string metrics = Path.Combine(run, RunFolder.Metrics);
            int steps = File.Exists(metrics)
                ? File.ReadLines(metrics).Count(l => l.StartsWith("{\"type\":\"step\"", StringComparison.Ordinal))
                : 0;
            if (steps > 0 && !restart)
                throw new QzoException(
                    $"{run}: {steps} steps were recorded but no checkpoint ({RunFolder.State}) was written before the run stopped " +
                    $"(one is saved every {settings.CheckpointEvery} steps); pass --force to start it again");
        }
        return Execute(model, train, validation, settings, run, backend, data, negative, resuming: hasState, quiet);
    }

    static JsonObject Execute(string model, IReadOnlyList<CachedImageCaption> train, IReadOnlyList<CachedImageCaption> validation,
                              Sd3FinetuneSettings s, string run, IBackend backend, JsonNode? data, CachedImageCaption? negative,
                              bool resuming, bool quiet)
    {
        var clock = Stopwatch.StartNew();
        if (train.Count == 0) throw new QzoException("no training pairs");
        var o = s.Optimizer;
        using var tuning = TaskWorkspace.Show(quiet, $"loading {Path.GetFileName(model)}", _ => Sd3FineTuning.Open(model, s, backend));
        string statePath = Path.Combine(run, RunFolder.State);
        RunState? state = resuming ? RunCheckpoint.LoadToResume(statePath, tuning.Trainable, o.Steps) : null;
        string description = $"sd3 transformer {Path.GetFileName(model)}, bitsandbytes 4-bit ({tuning.Scales.Count} linears)";
        if (!resuming)
            RunFolder.WriteJson(run, RunFolder.Config, new JsonObject
            {
                ["command"] = "finetune", ["kind"] = Kind, ["model"] = model, ["settings"] = Sd3RunSettingsJson.Write(s),
                ["data"] = data?.DeepClone(),
                ["examples"] = new JsonObject { ["train"] = train.Count, ["validation"] = validation.Count },
                ["facts"] = new JsonObject
                {
                    ["model_description"] = description, ["trainable_tensors"] = tuning.Scales.Count,
                    ["trainable_values"] = tuning.TrainableValues, ["backend"] = backend.Name,
                    ["started_utc"] = DateTime.UtcNow.ToString("O"),
                },
            });
        Say(quiet, $"QZO on {train.Count} image–caption pairs ({validation.Count} held out), objective {s.Objective.Describe()}; " +
                   $"{tuning.Scales.Count} absmax tensors ({tuning.TrainableValues:N0} values); {o.Steps} steps of batch {o.BatchSize}, " +
                   $"lr {o.LearningRate:G3}, eps {o.Epsilon:G3}, DDC {(o.ClipThreshold is float c ? $"C={c:G3}" : "off")}, " +
                   $"preset {s.Preset}" + (o.RandomSignControl ? ", RANDOM-SIGN CONTROL" : "") +
                   (state is null ? "" : $"; resuming at step {state.Step}"));

        var peaks = new StagePeaks(backend.Memory);
        backend.Memory.ResetPeaks();
        var grid = tuning.SampleGrid(validation, train, negative);
        var sheets = new List<string>();
        void Render(string label)
        {
            peaks.EndTraining();
            sheets.Add(Path.GetRelativePath(run, Sd3SampleFiles.Render(run, grid!, label)));
            peaks.EndSampling();
        }
        if (grid is not null && state is null)
        {
            Sd3SampleFiles.WritePrompts(run, grid);
            TaskWorkspace.Show(quiet, "samples before training", _ => { Render(Sd3SampleFiles.StepLabel(0)); return 0; });
        }

        using var metrics = new MetricsWriter(Path.Combine(run, RunFolder.Metrics), state?.MetricsBytes);
        var checkpointing = RunCheckpointing.ToFile(statePath, s.CheckpointEvery, tuning.Trainable);
        // With QZO_PROFILE set: the steady steps only, from the end of step 1 (compiles, first uploads) to the end of the
        // last-but-one step (the last one is followed by the final evaluation).
        System.Diagnostics.Stopwatch? profileClock = null;
        ProfileTable.Snapshot? steadySteps = null;
        void AfterStep(int step)
        {
            if (OperationProfile.Current != OperationProfile.Mode.Off && o.Steps >= 3)
            {
                if (step == 1) profileClock = ProfileTable.Restart(backend);
                else if (step == o.Steps - 1 && profileClock is not null)
                {
                    backend.Synchronize();
                    steadySteps = ProfileTable.Take(backend, profileClock.Elapsed.TotalSeconds);
                }
            }
            if (grid is not null && (s.SampleEvery > 0 && step % s.SampleEvery == 0 || step == o.Steps))
                Render(Sd3SampleFiles.StepLabel(step));
        }
        var summary = TrainingDisplay.Run(quiet, tuning.Loop(train, validation, metrics, checkpointing, AfterStep), state);
        if (grid is not null && s.KeepBest && summary.BestStep != summary.Steps)
            Render($"kept-{Sd3SampleFiles.StepLabel(summary.BestStep)}");
        peaks.EndTraining();

        Sd3ExportSummary? export = null;
        if (s.SaveModel)
            export = TaskWorkspace.Show(quiet, "saving the tuned pipeline",
                                        _ => tuning.Save(Path.Combine(run, RunFolder.Model), overwrite: true));

        var results = new JsonObject
        {
            ["method"] = "qzo", ["kind"] = Kind, ["model"] = Path.GetFileName(model), ["model_description"] = description,
            ["task"] = $"text-to-image ({Sd3ObjectiveSettings.Name(s.Objective.Kind)})", ["metric"] = "loss",
            ["validation_before"] = summary.Before is null ? null : EvaluationJson.Write(summary.Before),
            ["validation_last"] = summary.After is null ? null : EvaluationJson.Write(summary.After),
            ["validation_best"] = summary.Best is null ? null : EvaluationJson.Write(summary.Best),
            ["best_step"] = summary.BestStep, ["steps"] = summary.Steps, ["kept"] = s.KeepBest ? "best" : "last",
            ["train_seconds"] = Math.Round(summary.Seconds, 3),
            ["seconds_per_step"] = summary.Steps == 0 ? null : Math.Round(summary.Seconds / summary.Steps, 5),
            ["wall_seconds"] = Math.Round(clock.Elapsed.TotalSeconds + (state?.ElapsedSeconds ?? 0), 3),
            ["trainable_tensors"] = tuning.Scales.Count, ["trainable_values"] = tuning.TrainableValues,
            ["peak_bytes"] = Json(peaks.Training), ["sample_peak_bytes"] = Json(peaks.Sampling),
            ["examples"] = new JsonObject { ["train"] = train.Count, ["validation"] = validation.Count },
            ["samples"] = new JsonArray(sheets.Select(p => (JsonNode)p).ToArray()),
            ["saved"] = export is null ? null : new JsonObject
            {
                ["folder"] = RunFolder.Model, ["linked_files"] = export.LinkedFiles, ["copied_files"] = export.CopiedFiles,
                ["absmax_max_encoding_error"] = export.Transformer.MaxEncodingError,
            },
            ["resumed"] = resuming,
            ["compute"] = o.Compute.ToString().ToLowerInvariant(),
            ["fp8_declined_shapes"] = new JsonArray(backend.Fp8DeclinedShapes.Select(shape => (JsonNode)shape).ToArray()),
            ["compare_compute"] = tuning.Comparison?.ToJson(),
        };
        RunFolder.WriteJson(run, RunFolder.Results, results);
        var plots = RunPlots.Draw(run, $"QZO SD3 ({Sd3ObjectiveSettings.Name(s.Objective.Kind)})", peaks.Training);
        if (!quiet) Print(summary, run, plots, sheets, backend, peaks, steadySteps, o.Steps);
        return results;
    }

    static JsonObject Json(IReadOnlyDictionary<string, long> peaks) =>
        new(peaks.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));

    static void Print(TrainingSummary summary, string run, IReadOnlyList<string> plots, IReadOnlyList<string> sheets, IBackend backend,
                      StagePeaks peaks, ProfileTable.Snapshot? steadySteps, int steps)
    {
        var table = new Table().AddColumns("", "validation loss");
        table.AddRow("before", $"{summary.Before?.Loss:F5}");
        table.AddRow($"after (step {summary.Steps})", $"{summary.After?.Loss:F5}");
        if (summary.BestStep != summary.Steps) table.AddRow($"kept (step {summary.BestStep})", $"{summary.Best?.Loss:F5}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape(
            $"{summary.Steps} steps in {summary.Seconds:F1} s on {backend.Name}; run folder {run} " +
            $"({string.Join(", ", plots.Select(Path.GetFileName))}; {sheets.Count} sample grids in {RunFolder.Samples}/); " +
            $"training peak {CommonOptions.Bytes(peaks.Training.GetValueOrDefault("Total"))}, " +
            $"sampling peak {CommonOptions.Bytes(peaks.Sampling.GetValueOrDefault("Total"))}"));
        if (steadySteps is not null) ProfileTable.Print(steadySteps, $"steps 2 to {steps - 1}, sample grids included if any");
        else ProfileTable.Print(backend, "the whole run: evaluations, steps and samples");
    }

    static void Say(bool quiet, string text)
    {
        if (!quiet) AnsiConsole.MarkupLine(Markup.Escape(text));
    }
}
