using System.Diagnostics;
using Qzo.Compute;
using Qzo.Models;
using Qzo.Tasks;

namespace Qzo.Training;

public sealed record TrainingProgress(int Step, int Steps, ZoStepRecord? LastStep, EvaluationResult? LastEvaluation);

public sealed record TrainingSummary(EvaluationResult? Before, EvaluationResult? After, EvaluationResult? Best, int BestStep,
                                     int Steps, double Seconds, IReadOnlyList<ZoStepRecord> History);

/// <summary>
/// The trainer loop: step → (every N steps) evaluate on validation data, keeping the trainable tensors of the best
/// evaluation (by the task metric, else by loss); at the end the model holds the best ones (or the last, if asked).
/// With checkpointing, the state is saved every N steps, and <see cref="Run"/> can start from a saved state.
/// </summary>
public sealed class TrainingRun
{
    readonly CausalLanguageModel _model;
    readonly ZoOptions _options;
    readonly IReadOnlyList<Example> _train;
    readonly Func<EvaluationResult>? _validate;
    readonly int _padId;
    readonly MetricsWriter _metrics;
    readonly bool _keepBest;
    readonly RunCheckpointing? _checkpointing;

    public TrainingRun(CausalLanguageModel model, ZoOptions options, IReadOnlyList<Example> train, IReadOnlyList<Example>? validation,
                       int padId, MetricsWriter metrics, bool keepBest = true)
        : this(model, options, train, validation is null ? null : () => Evaluator.Evaluate(model, validation, options.BatchSize, padId),
               padId, metrics, keepBest)
    {
    }

    /// <param name="validate">evaluates the model as it is now; null: no validation.</param>
    public TrainingRun(CausalLanguageModel model, ZoOptions options, IReadOnlyList<Example> train, Func<EvaluationResult>? validate,
                       int padId, MetricsWriter metrics, bool keepBest = true, RunCheckpointing? checkpointing = null)
    {
        _model = model; _options = options; _train = train; _validate = validate; _padId = padId;
        _metrics = metrics; _keepBest = keepBest; _checkpointing = checkpointing;
    }

    public TrainingSummary Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default, RunState? resume = null)
    {
        _options.Validate();
        if (_train.Count == 0) throw new QzoException("no training examples");
        var stepper = new ZoStepper(_model, _options);
        var sampler = new BatchSampler(_train.Count, _options.BatchSize, _options.Seed);
        double offset = resume?.ElapsedSeconds ?? 0;
        var clock = Stopwatch.StartNew();
        double Elapsed() => offset + clock.Elapsed.TotalSeconds;
        var history = new List<ZoStepRecord>(_options.Steps);
        bool trackBest = _keepBest && _validate is not null;

        EvaluationResult? before, best, last;
        int bestStep, first;
        float[][]? bestValues;
        if (resume is null)
        {
            before = best = last = Evaluate(0, Elapsed);
            bestStep = first = 0;
            bestValues = trackBest ? Snapshot() : null;
        }
        else
        {
            Restore(resume.Values);
            (before, best, last, bestStep, bestValues, first) = (resume.Before, resume.Best, resume.Last, resume.BestStep, resume.BestValues, resume.Step);
            if (trackBest && bestValues is null) throw new QzoException("the checkpoint holds no best state, but this run keeps the best one");
        }
        progress?.Report(new TrainingProgress(first, _options.Steps, null, last));

        for (int step = first; step < _options.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            var batch = sampler.IndicesForStep(step).Select(i => _train[i]).ToList();
            var record = stepper.Step(step, p => Objective.Loss(_model, batch, p, _padId));
            history.Add(record);
            _metrics.Step(record, Elapsed());

            bool evaluateNow = _options.EvalEvery > 0 && (step + 1) % _options.EvalEvery == 0 || step + 1 == _options.Steps;
            if (evaluateNow && _validate is not null)
            {
                last = Evaluate(step + 1, Elapsed);
                if (trackBest && last!.IsBetterThan(best!))
                {
                    best = last;
                    bestStep = step + 1;
                    bestValues = Snapshot();
                }
            }
            if (_checkpointing is { } c && ((step + 1) % c.Every == 0 || step + 1 == _options.Steps))
                c.Save(new RunState(step + 1, Snapshot(), before, last, best, bestStep, bestValues, _metrics.Position, Elapsed()));
            progress?.Report(new TrainingProgress(step + 1, _options.Steps, record, last));
        }

        if (trackBest && bestStep != _options.Steps) Restore(bestValues!);
        return new TrainingSummary(before, last, trackBest ? best : last, trackBest ? bestStep : _options.Steps, _options.Steps, Elapsed(), history);
    }

    EvaluationResult? Evaluate(int step, Func<double> elapsed)
    {
        if (_validate is null) return null;
        var result = _validate();
        _metrics.Evaluation(step, result, elapsed());
        return result;
    }

    float[][] Snapshot() => _model.Trainable.Select(p => p.Download(_model.Backend)).ToArray();

    void Restore(float[][] values)
    {
        var trainable = _model.Trainable;
        for (int i = 0; i < trainable.Count; i++) _model.Backend.Upload<float>(trainable[i].Values, values[i]);
    }
}
