namespace Qzo.Training;

/// <summary>One trainable tensor as the training core sees it: a name (for checkpoints) and a number of values.</summary>
/// <param name="Floored">an update keeps its values at or above the run's floor (quantization scales).</param>
public sealed record TrainableTensor(string Name, long Length, bool Floored);

/// <summary>
/// The tensors a zeroth-order run trains, in index order (t = 0, 1, ...): how to apply an update along z(seed, t, i),
/// and how to copy their values out and back for checkpoints and the best state. Perturbing them is the objective's
/// part (see <see cref="IObjective{TExample}"/>), since only the forward pass knows where they are used.
/// </summary>
public interface ITrainableSet
{
    IReadOnlyList<TrainableTensor> Tensors { get; }

    /// <summary>
    /// master ← master − step·z(seed, t, i) for every tensor t; a <see cref="TrainableTensor.Floored"/> one then ← max(·, floor).
    /// </summary>
    void Update(ulong seed, float step, float floor);

    /// <summary>The current values, one fp32 array per tensor.</summary>
    float[][] Snapshot();

    /// <summary>Puts back values taken by <see cref="Snapshot"/> (or read from a checkpoint).</summary>
    void Restore(float[][] values);
}
