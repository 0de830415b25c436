using System.Diagnostics;
using System.Text.Json.Nodes;
using Qzo.Cli.Runs;
using Qzo.Compute;
using Qzo.Distributed;
using Qzo.Models;
using Qzo.Models.Pipeline;
using Qzo.Tasks;
using Qzo.Training;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>
/// `qzo finetune` from folder to folder: open the checkpoint, read the data, evaluate, train with a progress
/// bar, evaluate, export in the input's format, and print the metrics and the memory breakdown.
/// </summary>
static class FinetuneJob
{
    public sealed record Request(string Model, string Train, string? Validation, string? Output, ZoOptions Options, int MaxLength,
                                 ClassificationFormat? Classification, string? MetricsPath, bool KeepBest, bool Force,
                                 int? TrainLimit = null, int? ValidationLimit = null, bool Quiet = false, DataParallel? Parallel = null,
                                 PipelineStage? Pipeline = null)
    {
        /// <summary>This request as rank <paramref name="parallel"/>'s: only rank 0 writes, logs and shows progress.</summary>
        public Request AsRank(DataParallel parallel) => parallel.IsRoot ? this with { Parallel = parallel }
            : this with { Parallel = parallel, Output = null, MetricsPath = null, Quiet = true };

        /// <summary>This request as pipeline stage <paramref name="stage"/>'s: only rank 0 writes, logs and shows progress.</summary>
        public Request AsStage(PipelineStage stage) => stage.Rank == 0 ? this with { Pipeline = stage }
            : this with { Pipeline = stage, Output = null, MetricsPath = null, Quiet = true };
    }

    public sealed record Result(TrainingSummary Summary, IReadOnlyDictionary<string, long> PeakBytes, int TrainableTensors,
                                long TrainableValues, double LoadSeconds, double TrainSeconds, string? Output)
    {
        public JsonObject ToJson() => new()
        {
            ["before"] = Metrics(Summary.Before),
            ["after"] = Metrics(Summary.After),
            ["best"] = Metrics(Summary.Best),
            ["best_step"] = Summary.BestStep,
            ["steps"] = Summary.Steps,
            ["train_seconds"] = Math.Round(TrainSeconds, 3),
            ["seconds_per_step"] = Summary.Steps == 0 ? null : Math.Round(TrainSeconds / Summary.Steps, 5),
            ["load_seconds"] = Math.Round(LoadSeconds, 3),
            ["trainable_tensors"] = TrainableTensors,
            ["trainable_values"] = TrainableValues,
            ["peak_bytes"] = new JsonObject(PeakBytes.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["output"] = Output,
        };

        static JsonNode? Metrics(EvaluationResult? e) => e is null ? null : new JsonObject
        {
            ["loss"] = e.Loss, ["perplexity"] = e.Perplexity, ["accuracy"] = e.Accuracy, ["examples"] = e.Examples,
        };
    }

    public static Result Run(Request request, IBackend backend)
    {
        var o = request.Options;
        var scope = LanguageModelTraining.Scope(o);
        if (request.Output is string outPath && Directory.Exists(outPath) && Directory.EnumerateFileSystemEntries(outPath).Any()
            && !request.Force)
            throw new QzoException($"{outPath}: folder exists and is not empty (pass --force to replace it)");

        var load = Stopwatch.StartNew();
        using var session = ProgressOrQuiet(request.Quiet, $"loading {Path.GetFileName(Path.GetFullPath(request.Model))}",
            report => ModelSession.Open(request.Model, backend, scope, new Progress<double>(f => report(f, null)), request.Pipeline));
        var trainData = JsonlDataset.LoadScored(request.Train, session.Tokenizer, request.MaxLength, request.Classification,
            request.TrainLimit);
        var validationData = request.Validation is null ? null
            : JsonlDataset.LoadScored(request.Validation, session.Tokenizer, request.MaxLength, request.Classification,
                request.ValidationLimit);
        load.Stop();
        if (trainData.SkippedNote is string trainSkipped) Say(request, $"{Markup.Escape(request.Train)}: {trainSkipped}");
        if (validationData?.SkippedNote is string validationSkipped) Say(request,
            $"{Markup.Escape(request.Validation!)}: {validationSkipped}");
        var train = trainData.Examples;
        var validation = validationData?.Examples;

        var model = session.Model;
        foreach (var name in model.UnusedTensors.Take(5))
            Say(request, $"[yellow]warning:[/] checkpoint tensor '{Markup.Escape(name)}' is not used by the model");
        if (model.UnusedTensors.Count > 5) Say(request, $"[yellow]warning:[/] {model.UnusedTensors.Count - 5} more unused tensors");
        var (trainableTensors, trainableValues) = TrainableCount(model);
        Say(request, $"{o.Method.ToString().ToUpperInvariant()}: {trainableTensors} trainable tensors, {trainableValues:N0} values; " +
                     $"{train.Count} training examples{(validation is null ? "" : $", {validation.Count} validation")}; " +
                     $"{o.Steps} steps of batch {o.BatchSize}, lr {o.LearningRate:G3}, eps {o.Epsilon:G3}, " +
                     $"DDC {(o.ClipThreshold is float c ? $"C={c:G3}" : "off")}{(o.RandomSignControl ? ", RANDOM-SIGN CONTROL" : "")}");

        string? metricsPath = MetricsPath(request.Output, request.MetricsPath);
        using var metrics = new MetricsWriter(metricsPath);
        if (request.Parallel is { } parallel)
            Say(request, $"data parallel: {parallel.Communicator.WorldSize} ranks, each scoring its share of every batch of {o.BatchSize}");
        if (request.Pipeline is { } stage) Say(request, Markup.Escape(PipelineLayout(stage, session.Checkpoint.Config.Layers)));
        var loop = LanguageModelTraining.Loop(model, o, train, validation, session.PadId, metrics, request.KeepBest, request.Parallel);
        var clock = Stopwatch.StartNew();
        var summary = TrainingDisplay.Run(request.Quiet, loop);
        clock.Stop();

        var saved = request.Pipeline is null ? null : PipelineExport.Export(session.Checkpoint, model, request.Output, request.Force);
        if (request.Output is string output)
        {
            var export = saved ?? CheckpointExporter.Export(session.Checkpoint, model, output, request.Force);
            Say(request,
                $"saved {Markup.Escape(output)} (only the trained tensors " +
                $"changed){(metricsPath is null ? "" : $"; metrics in {Markup.Escape(metricsPath)}")}");
            if (export.MaxEncodingError > 0)
                Say(request,
                    "[yellow]note:[/] the checkpoint's scale format cannot hold the tuned scales exactly; the saved ones differ by up " +
                    "to " +
                             $"{export.MaxEncodingError:G3} ({export.MaxRelativeEncodingError:P2} relative), e.g. a double-quantized " +
                             "absmax re-encoded to 8 bits");
        }
        var result = new Result(summary, backend.Memory.PeakBreakdown(), trainableTensors, trainableValues, load.Elapsed.TotalSeconds,
                                clock.Elapsed.TotalSeconds, request.Output);
        if (!request.Quiet) Print(result, backend);
        return result;
    }

    /// <summary>The model's trainable tensors and values: over every rank's part for a pipeline (every rank calls it).</summary>
    static (int Tensors, long Values) TrainableCount(CausalLanguageModel model)
    {
        var trainable = model.Trainable;
        if (model.Pipeline is not { } stage) return (trainable.Count, trainable.Sum(p => p.Length));
        var names = stage.Communicator.AllGather(trainable.Select(p => $"{p.Length} {p.Name}").ToList()).SelectMany(n => n).Distinct()
            .ToList(); // a tensor two ranks hold (a tied embedding) counts once
        return (names.Count, names.Sum(n => long.Parse(n[..n.IndexOf(' ')], System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>One line: which layers each rank of the pipeline holds, and the micro-batches.</summary>
    public static string PipelineLayout(PipelineStage stage, int layers)
    {
        int ranks = stage.Communicator.WorldSize;
        var parts = Enumerable.Range(0, ranks).Select(r => ModelPart.OfRank(layers, r, ranks))
            .Select((p, r) => $"rank {r} layers {p.FirstLayer}..{p.EndLayer - 1}");
        return $"pipeline: {ranks} ranks ({string.Join(", ", parts)}; the first embeds, the last scores), " +
               $"{stage.MicroBatches} micro-batches a batch";
    }

    /// <summary>--metrics, or beside the output folder: OUT.metrics.jsonl; none without either.</summary>
    public static string? MetricsPath(string? output, string? metrics) =>
        metrics ?? (output is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(output)) + ".metrics.jsonl");

    static void Print(Result r, IBackend backend)
    {
        var s = r.Summary;
        if (s.Before is not null)
        {
            var table = new Table().AddColumns("", "loss", "perplexity", "accuracy");
            void Row(string name, EvaluationResult? e)
            {
                if (e is null) return;
                table.AddRow(name, $"{e.Loss:F4}", e.Perplexity is double p ? $"{p:F3}" : "-", e.Accuracy is double a ? $"{a:P1}" : "-");
            }
            Row("before", s.Before);
            Row($"after (step {s.Steps})", s.After);
            Row($"kept (step {s.BestStep})", s.Best);
            AnsiConsole.Write(table);
        }
        AnsiConsole.MarkupLine(
            $"{s.Steps} steps in {r.TrainSeconds:F1} s ({(s.Steps == 0 ? 0 : r.TrainSeconds / s.Steps):F3} s/step, evaluations included) " +
            $"on {backend.Name}");
        MemoryTable.Print(backend);
    }

    static T ProgressOrQuiet<T>(bool quiet, string description, Func<Action<double, string?>, T> work) =>
        quiet ? work((_, _) => { }) : ProgressDisplay.Run(description, work);

    static void Say(Request request, string markup)
    {
        if (!request.Quiet) AnsiConsole.MarkupLine(markup);
    }
}
