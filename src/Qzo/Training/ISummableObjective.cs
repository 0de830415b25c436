using Qzo.Compute;

namespace Qzo.Training;

/// <summary>A batch's loss as a sum and what it is a mean over (scored tokens, or examples).</summary>
public readonly record struct LossSum(double Sum, double Count);

/// <summary>
/// An objective whose batch loss is Sum / Count over parts of its examples, so a batch split across ranks is scored by
/// adding the shards' sums and counts (docs/distributed.md §Data parallel). <see cref="IObjective{TExample}.Loss"/> must
/// be exactly Sum / Count of <see cref="LossSum(IReadOnlyList{TExample}, Perturbation)"/> on the same batch, so one rank
/// reproduces a single-process run bit for bit.
/// </summary>
public interface ISummableObjective<TExample> : IObjective<TExample>
{
    LossSum LossSum(IReadOnlyList<TExample> batch, Perturbation p);
}
