namespace Qzo.Tasks;

/// <summary>
/// Held-out metrics. For language modelling, Loss is the mean NLL per scored token; for classification,
/// the mean cross-entropy over candidates, with Accuracy beside it.
/// </summary>
public sealed record EvaluationResult(double Loss, double? Perplexity, double? Accuracy, int Examples, long ScoredTokens);
