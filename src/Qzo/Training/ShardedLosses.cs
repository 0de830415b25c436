using Qzo.Compute;
using Qzo.Distributed;

namespace Qzo.Training;

/// <summary>
/// A step's losses with its batch split across ranks: this rank's share (<see cref="RankShard"/>) is scored under every
/// probe, and one all-reduce of (sum under each probe, count) gives every rank the global losses Sum / Count.
/// </summary>
public static class ShardedLosses
{
    public static Func<IReadOnlyList<Perturbation>, double[]> For<TExample>(ISummableObjective<TExample> objective,
        IReadOnlyList<TExample> batch, ICommunicator communicator)
    {
        var shard = RankShard.Of(batch, communicator.Rank, communicator.WorldSize);
        return probes =>
        {
            var sums = new double[probes.Count + 1];
            for (int i = 0; i < probes.Count && shard.Count > 0; i++)
            {
                var part = objective.LossSum(shard, probes[i], batch);
                sums[i] = part.Sum;
                sums[^1] = part.Count; // the same under every probe: it depends on the examples only
            }
            communicator.AllReduceSum(sums);
            double count = sums[^1];
            if (!(count > 0)) throw new QzoException("the step's batch scores nothing (a count of 0 across every rank)");
            var losses = new double[probes.Count];
            for (int i = 0; i < losses.Length; i++) losses[i] = sums[i] / count;
            return losses;
        };
    }
}
