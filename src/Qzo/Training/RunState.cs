
namespace Qzo.Training;

/// <summary>
/// Everything a killed run needs to go on exactly as if it had not stopped: the next step (step seeds and batches
/// are pure functions of the run seed and the step, so nothing else of the random state is needed), the trainable
/// values, the evaluations so far with the best one's values, and how far metrics.jsonl had been written.
/// </summary>
public sealed record RunState(int Step, float[][] Values, EvaluationResult? Before, EvaluationResult? Last,
                              EvaluationResult? Best, int BestStep, float[][]? BestValues, long MetricsBytes, double ElapsedSeconds);

/// <summary>Save the run state every <see cref="Every"/> steps (and after the last).</summary>
public sealed record RunCheckpointing(int Every, Action<RunState> Save)
{
    /// <summary>Into one <see cref="RunCheckpoint"/> file, replaced each time; every ≤ 0 counts as 1.</summary>
    public static RunCheckpointing ToFile(string path, int every, ITrainableSet trainable) =>
        new(Math.Max(1, every), state => RunCheckpoint.Save(path, state, trainable));
}
