using Qzo.Compute;
using Qzo.Models;
using Qzo.Training;

namespace Qzo.Tasks;

/// <summary>
/// The training objective of a causal language model: the loss of a batch of examples (JSONL rows or task items)
/// under a perturbation, as <see cref="Objective.Loss"/> defines it.
/// </summary>
public sealed class LanguageModelObjective(CausalLanguageModel model, int padId) : ISummableObjective<Example>
{
    public double Loss(IReadOnlyList<Example> batch, Perturbation p) => Objective.Loss(model, batch, p, padId);

    public LossSum LossSum(IReadOnlyList<Example> batch, Perturbation p, IReadOnlyList<Example>? whole = null) =>
        Objective.LossSum(model, batch, p, padId, whole is null ? 0 : Objective.PaddedLength(whole));
}
