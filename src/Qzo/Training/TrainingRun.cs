using System.Diagnostics;
using Qzo.Compute;
using Qzo.Models;
using Qzo.Tasks;

namespace Qzo.Training;

public sealed record TrainingProgress(int Step, int Steps, ZoStepRecord? LastStep, EvaluationResult? LastEvaluation);

public sealed record TrainingSummary(EvaluationResult? Before, EvaluationResult? After, EvaluationResult? Best, int BestStep,
                                     int Steps, double Seconds, IReadOnlyList<ZoStepRecord> History);

/// <summary>
/// The trainer loop: step → (every N steps) evaluate on validation data, keeping the trainable tensors of
/// the best evaluation by loss; at the end the model holds the best ones (or the last, if asked).
/// </summary>
public sealed class TrainingRun(CausalLanguageModel model, ZoOptions options, IReadOnlyList<Example> train,
                                IReadOnlyList<Example>? validation, int padId, MetricsWriter metrics, bool keepBest = true)
{
    public TrainingSummary Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        var stepper = new ZoStepper(model, options);
        var sampler = new BatchSampler(train.Count, options.BatchSize, options.Seed);
        var clock = Stopwatch.StartNew();
        var history = new List<ZoStepRecord>(options.Steps);

        EvaluationResult? before = Evaluate(0, clock), best = before, last = before;
        int bestStep = 0;
        bool trackBest = keepBest && validation is not null;
        var bestValues = trackBest ? Snapshot() : null;
        progress?.Report(new TrainingProgress(0, options.Steps, null, before));

        for (int step = 0; step < options.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            var batch = sampler.IndicesForStep(step).Select(i => train[i]).ToList();
            var record = stepper.Step(step, p => Objective.Loss(model, batch, p, padId));
            history.Add(record);
            metrics.Step(record, clock.Elapsed.TotalSeconds);

            bool evaluateNow = options.EvalEvery > 0 && (step + 1) % options.EvalEvery == 0 || step + 1 == options.Steps;
            if (evaluateNow && validation is not null)
            {
                last = Evaluate(step + 1, clock);
                if (trackBest && last!.Loss < best!.Loss)
                {
                    best = last;
                    bestStep = step + 1;
                    bestValues = Snapshot();
                }
            }
            progress?.Report(new TrainingProgress(step + 1, options.Steps, record, last));
        }

        if (trackBest && bestStep != options.Steps) Restore(bestValues!);
        return new TrainingSummary(before, last, trackBest ? best : last, trackBest ? bestStep : options.Steps, options.Steps, clock.Elapsed.TotalSeconds, history);
    }

    EvaluationResult? Evaluate(int step, Stopwatch clock)
    {
        if (validation is null) return null;
        var result = Evaluator.Evaluate(model, validation, options.BatchSize, padId);
        metrics.Evaluation(step, result, clock.Elapsed.TotalSeconds);
        return result;
    }

    float[][] Snapshot() => model.Trainable.Select(p => p.Download(model.Backend)).ToArray();

    void Restore(float[][] values)
    {
        var trainable = model.Trainable;
        for (int i = 0; i < trainable.Count; i++) model.Backend.Upload<float>(trainable[i].Values, values[i]);
    }
}
