using Qzo.Compute;

namespace Qzo.Training;

/// <summary>A batch's loss as a sum and what it is a mean over (scored tokens, or examples).</summary>
public readonly record struct LossSum(double Sum, double Count);

/// <summary>
/// An objective whose batch loss is Sum / Count over parts of its examples, so a batch split across ranks is scored by
/// adding the shards' sums and counts (docs/distributed.md §Data parallel). <see cref="IObjective{TExample}.Loss"/> must
/// be exactly Sum / Count of <see cref="LossSum"/> on the same batch, so one rank reproduces a single-process run bit for bit.
/// </summary>
public interface ISummableObjective<TExample> : IObjective<TExample>
{
    /// <param name="whole">the batch this one is a share of (null: itself). An objective whose numbers depend on the batch's
    /// shape, such as a language model's padding to the longest sequence, takes the shape from it, so that the shares
    /// score each example as the whole batch does.</param>
    LossSum LossSum(IReadOnlyList<TExample> batch, Perturbation p, IReadOnlyList<TExample>? whole = null);
}
