using Qzo.Compute;

namespace Qzo.Training;

/// <summary>
/// What a zeroth-order run minimises: the loss of a batch of examples with the trainable tensors moved by a
/// perturbation. Under <c>p</c>, trainable tensor t must be seen as master + p.Scale·z(p.Seed, t, i), with the z of
/// the run's <see cref="ITrainableSet"/>, so the update moves the tensors along the direction that was probed
/// (docs/algorithm.md). A language model's objective is one implementation; any model with such tensors can add one.
/// </summary>
public interface IObjective<TExample>
{
    double Loss(IReadOnlyList<TExample> batch, Perturbation p);
}
