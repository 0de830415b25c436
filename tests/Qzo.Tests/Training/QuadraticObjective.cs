using Qzo.Compute;
using Qzo.Numerics;
using Qzo.Training;

namespace Qzo.Tests.Training;

/// <summary>
/// A trainable set without any model: fp32 arrays on the host, z(seed, t, i) = ±1 from SplitMix64. The floored
/// tensors are kept at or above the floor, as quantization scales are.
/// </summary>
sealed class HostTrainableSet(float[][] values, bool[] floored) : ITrainableSet
{
    public IReadOnlyList<TrainableTensor> Tensors { get; } =
        values.Select((v, t) => new TrainableTensor($"x{t}", v.Length, floored[t])).ToList();

    public float[][] Values => values;

    public static float Z(ulong seed, int t, int i) =>
        (SplitMix64.Mix(seed ^ SplitMix64.Mix(((ulong)t << 32) | (uint)i)) & 1) == 0 ? 1f : -1f;

    public void Update(ulong seed, float step, float floor)
    {
        for (int t = 0; t < values.Length; t++)
            for (int i = 0; i < values[t].Length; i++)
            {
                float x = values[t][i] - step * Z(seed, t, i);
                values[t][i] = floored[t] ? Math.Max(x, floor) : x;
            }
    }

    public float[][] Snapshot() => values.Select(v => v.ToArray()).ToArray();

    public void Restore(float[][] saved)
    {
        for (int t = 0; t < values.Length; t++) saved[t].CopyTo(values[t], 0);
    }
}

/// <summary>
/// Mean over the batch of Σ (x_ti + s·z_ti − target_ti − shift)²: each example is a shift of the target, so batches
/// disagree a little, as real data does. Its loss sums over examples, so it can be split across ranks.
/// </summary>
sealed class QuadraticObjective(HostTrainableSet set, float[][] target) : ISummableObjective<double>
{
    public double Loss(IReadOnlyList<double> batch, Perturbation p)
    {
        var sum = LossSum(batch, p);
        return sum.Sum / sum.Count;
    }

    public LossSum LossSum(IReadOnlyList<double> batch, Perturbation p, IReadOnlyList<double>? whole = null)
    {
        double total = 0;
        foreach (double shift in batch) total += ExampleLoss(shift, p);
        return new LossSum(total, batch.Count);
    }

    double ExampleLoss(double shift, Perturbation p)
    {
        double sum = 0;
        for (int t = 0; t < target.Length; t++)
            for (int i = 0; i < target[t].Length; i++)
            {
                double x = set.Values[t][i] + (p.IsNone ? 0 : p.Scale * HostTrainableSet.Z(p.Seed, t, i));
                sum += (x - target[t][i] - shift) * (x - target[t][i] - shift);
            }
        return sum;
    }

    public EvaluationResult Evaluate() => new(Loss([0.0], Perturbation.None), null, null, 1, 0);
}
