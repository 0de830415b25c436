using System.Diagnostics;
using System.Text.Json.Nodes;
using Qzo.Models;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Qzo.Tasks;
using Qzo.Training;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>
/// `qzo demo`: teacher → coarse GPTQ student → teacher samples → QZO vs a random-sign control → held-out table.
/// The student can only get closer to the teacher by moving its scales in a useful direction, so a gain
/// over the control shows the zeroth-order estimate works.
/// </summary>
public static class DemoRunner
{
    public sealed record Settings
    {
        public string? Work { get; init; }
        public int Hidden { get; init; } = 128;
        public int Layers { get; init; } = 2;
        public int Heads { get; init; } = 4;
        public int KvHeads { get; init; } = 2;
        public int Vocab { get; init; } = 512;
        public int Bits { get; init; } = 2;
        public int GroupSize { get; init; } = -1;
        public int TrainSequences { get; init; } = 256;
        public int ValidationSequences { get; init; } = 64;
        public int TestSequences { get; init; } = 128;
        public int SequenceLength { get; init; } = 32;
        public int Steps { get; init; } = 4000;
        public int BatchSize { get; init; } = 16;
        public float LearningRate { get; init; } = 2e-4f;
        public float Epsilon { get; init; } = 1e-3f;
        public ulong Seed { get; init; } = 1;
        public bool Control { get; init; } = true;
        /// <summary>Directions probed per step (--directions).</summary>
        public int Directions { get; init; } = 1;
        public bool Quiet { get; init; }
        /// <summary>cpu, cuda or auto (see --device).</summary>
        public string Device { get; init; } = "cpu";
    }

    public sealed record Outcome(double TeacherLoss, double Before, double AfterQzo, double? AfterControl, double Seconds,
        double QzoTrainSeconds);

    public static Outcome Run(Settings s)
    {
        var clock = Stopwatch.StartNew();
        bool temporary = s.Work is null;
        string work = s.Work ?? Path.Combine(Path.GetTempPath(), $"qzo-demo-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try { return RunIn(work, s, clock); }
        finally { if (temporary) Directory.Delete(work, recursive: true); }
    }

    static Outcome RunIn(string work, Settings s, Stopwatch clock)
    {
        string teacher = Path.Combine(work, "teacher"), student = Path.Combine(work, "student"), data = Path.Combine(work, "data");
        Say(s, $"[bold]Qzo demo[/] in {Markup.Escape(work)} on {s.Device}");

        ModelSynthesizer.Write(teacher, new SynthOptions
        {
            Hidden = s.Hidden, Layers = s.Layers, Heads = s.Heads, KvHeads = s.KvHeads, Vocab = s.Vocab, Seed = s.Seed,
        }, overwrite: true);
        Say(s, $"1. teacher: random Llama, {s.Layers} layers, hidden {s.Hidden}, {s.Heads} heads ({s.KvHeads} kv), vocab {s.Vocab}, bf16");

        var config = GptqConfig.Create(s.Bits, s.GroupSize, sym: true, GptqCheckpointFormat.Gptq);
        CheckpointQuantizer.QuantizeRtn(teacher, student, config, overwrite: true);
        Say(s, $"2. student: the teacher quantized to GPTQ {s.Bits}-bit, group {s.GroupSize}, symmetric, by RTN");

        double teacherLoss = MakeData(teacher, data, s);
        Say(s, $"3. data: {s.TrainSequences} training, {s.ValidationSequences} validation and {s.TestSequences} held-out test sequences " +
            $"of {s.SequenceLength} tokens sampled from the teacher");

        double before = Evaluate(student, Path.Combine(data, "test.jsonl"), s);
        var qzo = Finetune(student, Path.Combine(work, "student-qzo"), data, s, control: false);
        double afterQzo = Evaluate(Path.Combine(work, "student-qzo"), Path.Combine(data, "test.jsonl"), s);
        double? afterControl = null;
        if (s.Control)
        {
            Finetune(student, Path.Combine(work, "student-control"), data, s, control: true);
            afterControl = Evaluate(Path.Combine(work, "student-control"), Path.Combine(data, "test.jsonl"), s);
        }

        var outcome = new Outcome(teacherLoss, before, afterQzo, afterControl, clock.Elapsed.TotalSeconds, qzo.TrainSeconds);
        if (!s.Quiet) Report(outcome, s, qzo);
        return outcome;
    }

    /// <summary>Writes train/validation/test JSONL of teacher samples; returns the teacher's own held-out loss.</summary>
    static double MakeData(string teacher, string folder, Settings s)
    {
        Directory.CreateDirectory(folder);
        using var backend = CommonOptions.CreateBackend(s.Device);
        using var session = ModelSession.Open(teacher, backend, TrainingScope.None);
        int total = s.TrainSequences + s.ValidationSequences + s.TestSequences;
        int bos = session.Tokenizer.BosId ?? 1;
        var prompts = Enumerable.Range(0, total).Select(_ => new[] { bos }).ToList();
        var sequences = Progress(s, "sampling from the teacher", report =>
            Sampling.Sample(session.Model, prompts, s.SequenceLength - 1, temperature: 1f, seed: s.Seed ^ 0xDA7A,
                            progress: new Progress<double>(f => report(f, null))));
        void Write(string name, IEnumerable<int[]> rows) => File.WriteAllLines(Path.Combine(folder, name),
            rows.Select(ids => new JsonObject { ["input_ids"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()) }.ToJsonString()));
        Write("train.jsonl", sequences.Take(s.TrainSequences));
        Write("validation.jsonl", sequences.Skip(s.TrainSequences).Take(s.ValidationSequences));
        Write("test.jsonl", sequences.Skip(s.TrainSequences + s.ValidationSequences));
        var test = JsonlDataset.Load(Path.Combine(folder, "test.jsonl"), session.Tokenizer, s.SequenceLength);
        return Evaluator.Evaluate(session.Model, test, 32, session.PadId).Loss!.Value;
    }

    static FinetuneJob.Result Finetune(string student, string output, string data, Settings s, bool control)
    {
        var options = new ZoOptions
        {
            Steps = s.Steps, BatchSize = s.BatchSize, LearningRate = s.LearningRate, Epsilon = s.Epsilon,
            EvalEvery = Math.Max(s.Steps / 5, 1), Seed = s.Seed, RandomSignControl = control, Directions = s.Directions,
        };
        Say(s, control
            ? "5. [bold]control[/]: the same run, the same z and the same |η·d'|, but each step's sign drawn at random"
            : $"4. [bold]QZO[/]: {s.Steps} steps of batch {s.BatchSize}{(s.Directions > 1 ? $", {s.Directions} directions" : "")}, " +
                $"lr {s.LearningRate:G3}, ε {s.Epsilon:G3}, DDC C=100 (the student's scales only)");
        var request = new FinetuneJob.Request(student, Path.Combine(data, "train.jsonl"), Path.Combine(data, "validation.jsonl"), output,
            options,
            s.SequenceLength, null, null, KeepBest: false, Force: true, Quiet: s.Quiet); // both runs end after the same number of updates
        using var backend = CommonOptions.CreateBackend(s.Device);
        return FinetuneJob.Run(request, backend);
    }

    static double Evaluate(string checkpoint, string data, Settings s)
    {
        using var backend = CommonOptions.CreateBackend(s.Device);
        using var session = ModelSession.Open(checkpoint, backend, TrainingScope.None);
        var examples = JsonlDataset.Load(data, session.Tokenizer, 4096);
        return Evaluator.Evaluate(session.Model, examples, 32, session.PadId).Loss!.Value;
    }

    static void Report(Outcome o, Settings s, FinetuneJob.Result qzo)
    {
        double gap = o.Before - o.TeacherLoss;
        string Recovered(double after) => gap > 0 ? $"{(o.Before - after) / gap:P1}" : "-";
        var table = new Table().Title("held-out test loss (nats/token, teacher samples)").AddColumns("model", "loss", "perplexity",
            "gap to teacher recovered");
        table.AddRow("teacher (bf16, the target)", $"{o.TeacherLoss:F4}", $"{Math.Exp(o.TeacherLoss):F3}", "");
        table.AddRow($"student before (GPTQ {s.Bits}-bit RTN)", $"{o.Before:F4}", $"{Math.Exp(o.Before):F3}", "0%");
        table.AddRow("[bold]student after QZO[/]", $"[bold]{o.AfterQzo:F4}[/]", $"{Math.Exp(o.AfterQzo):F3}",
            $"[bold]{Recovered(o.AfterQzo)}[/]");
        if (o.AfterControl is double c) table.AddRow("student after random-sign control", $"{c:F4}", $"{Math.Exp(c):F3}", Recovered(c));
        AnsiConsole.Write(table);
        string verdict = o.AfterControl is double control
            ? o.AfterQzo < control && o.AfterQzo < o.Before
                ? $"[green]QZO lowered the held-out loss by {o.Before - o.AfterQzo:F4} nats/token; the random-sign control " +
                    $"{(control > o.Before ? "raised" : "lowered")} it by {Math.Abs(control - o.Before):F4}.[/]"
                : "[red]QZO did not beat the control on this run.[/]"
            : $"QZO changed the held-out loss by {o.AfterQzo - o.Before:+0.0000;-0.0000} nats/token.";
        AnsiConsole.MarkupLine(verdict);
        AnsiConsole.MarkupLine(
            $"QZO: {s.Steps} steps in {o.QzoTrainSeconds:F1} s ({o.QzoTrainSeconds / s.Steps * 1000:F0} ms/step incl. evaluations); " +
            $"whole demo {o.Seconds:F1} s.");
    }

    static T Progress<T>(Settings s, string what, Func<Action<double, string?>, T> work) =>
        s.Quiet ? work((_, _) => { }) : ProgressDisplay.Run(what, work);

    static void Say(Settings s, string markup)
    {
        if (!s.Quiet) AnsiConsole.MarkupLine(markup);
    }
}
