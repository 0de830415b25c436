using System.Diagnostics;
using Qzo.Compute;

namespace Qzo.Training;

/// <summary>
/// The one zeroth-order training loop, for any objective and any set of trainable tensors: step → (every
/// <see cref="ZoOptions.EvalEvery"/> steps and after the last) validate, keeping the values of the best evaluation (by
/// the task metric, else by loss); at the end the set holds the best values (or the last, without keepBest). With
/// checkpointing, the state is saved every N steps (and after the last), and <see cref="Run"/> can start from a saved state.
/// </summary>
/// <param name="train">the examples a step's batch is drawn from by <see cref="BatchSampler"/>.</param>
/// <param name="validate">evaluates the trainable tensors as they are now; null: no validation.</param>
/// <param name="metrics">receives one line per step and per evaluation.</param>
/// <param name="afterStep">called with the number of steps done, after that step's evaluation and before its checkpoint
/// (e.g. to render samples with the values as they are then); it must not change the trainable values.</param>
/// <param name="parallel">run as one data-parallel rank (<see cref="DataParallel"/>): the objective must be an
/// <see cref="ISummableObjective{TExample}"/>, and validate must shard its examples the same way on every rank.</param>
public sealed class FineTuneLoop<TExample>(IObjective<TExample> objective, ITrainableSet trainable, ZoOptions options,
                                           IReadOnlyList<TExample> train, Func<EvaluationResult>? validate, MetricsWriter metrics,
                                           bool keepBest = true, RunCheckpointing? checkpointing = null, Action<int>? afterStep = null,
                                           DataParallel? parallel = null)
{
    public ITrainableSet Trainable => trainable;

    public TrainingSummary Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default, RunState? resume = null)
    {
        options.Validate();
        if (train.Count == 0) throw new QzoException("no training examples");
        var summable = objective as ISummableObjective<TExample>;
        if (parallel is not null && summable is null) throw new QzoException(
            $"{objective.GetType().Name} cannot split a batch across ranks (it gives no loss sums); run it on one device");
        var stepper = new ZoStepper(trainable, options);
        var sampler = new BatchSampler(train.Count, options.BatchSize, options.Seed);
        double offset = resume?.ElapsedSeconds ?? 0;
        var clock = Stopwatch.StartNew();
        double Elapsed() => offset + clock.Elapsed.TotalSeconds;
        var history = new List<ZoStepRecord>(options.Steps);
        bool trackBest = keepBest && validate is not null;

        EvaluationResult? before, best, last;
        int bestStep, first;
        float[][]? bestValues;
        if (resume is null)
        {
            before = best = last = Evaluate(0, Elapsed);
            bestStep = first = 0;
            bestValues = trackBest ? trainable.Snapshot() : null;
        }
        else
        {
            trainable.Restore(resume.Values);
            (before, best, last, bestStep, bestValues, first) =
                (resume.Before, resume.Best, resume.Last, resume.BestStep, resume.BestValues, resume.Step);
            if (trackBest && bestValues is null)
                throw new QzoException("the checkpoint holds no best state, but this run keeps the best one");
        }
        progress?.Report(new TrainingProgress(first, options.Steps, null, last));

        for (int step = first; step < options.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            var batch = sampler.IndicesForStep(step).Select(i => train[i]).ToList();
            var record = parallel is null ? stepper.Step(step, p => objective.Loss(batch, p))
                : stepper.Step(step, ShardedLosses.For(summable!, batch, parallel.Communicator));
            history.Add(record);
            OperationProfile.Phase("metrics line", () => metrics.Step(record, Elapsed()));

            bool evaluateNow = options.EvalEvery > 0 && (step + 1) % options.EvalEvery == 0 || step + 1 == options.Steps;
            if (evaluateNow && validate is not null)
            {
                last = Evaluate(step + 1, Elapsed);
                if (trackBest && last!.IsBetterThan(best!))
                {
                    best = last;
                    bestStep = step + 1;
                    bestValues = trainable.Snapshot();
                }
            }
            if (parallel is not null && ((step + 1) % Math.Max(parallel.CheckEvery, 1) == 0 || step + 1 == options.Steps))
                ReplicaCheck.Verify(trainable, parallel.Communicator, step + 1);
            afterStep?.Invoke(step + 1);
            if (checkpointing is { } c && parallel is not { IsRoot: false } && ((step + 1) % c.Every == 0 || step + 1 == options.Steps))
                c.Save(new RunState(step + 1, trainable.Snapshot(), before, last, best, bestStep, bestValues, metrics.Position, Elapsed()));
            OperationProfile.Phase("progress", () => progress?.Report(new TrainingProgress(step + 1, options.Steps, record, last)));
        }

        if (trackBest && bestStep != options.Steps) trainable.Restore(bestValues!);
        return new TrainingSummary(before, last, trackBest ? best : last, trackBest ? bestStep : options.Steps, options.Steps, Elapsed(),
                                   history);
    }

    EvaluationResult? Evaluate(int step, Func<double> elapsed)
    {
        if (validate is null) return null;
        var result = validate();
        metrics.Evaluation(step, result, elapsed());
        return result;
    }
}
