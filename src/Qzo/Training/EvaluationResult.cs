namespace Qzo.Training;

/// <summary>
/// Held-out metrics, what a run's validation returns: any objective gives a loss; the rest is a language model's
/// (a model that scores no tokens leaves them null and 0). For language modelling, Loss is the mean NLL per scored
/// token; for classification, the mean cross-entropy over candidates, with Accuracy beside it; generation has no loss,
/// only ExactMatch and F1. <see cref="Metric"/> names the task metric that picks the best checkpoint (higher is
/// better); without one the lowest loss wins.
/// </summary>
public sealed record EvaluationResult(double? Loss, double? Perplexity, double? Accuracy, int Examples, long ScoredTokens)
{
    public string? Metric { get; init; }
    public double? ExactMatch { get; init; }
    public double? F1 { get; init; }

    public double? MetricValue => Metric switch
    {
        "accuracy" => Accuracy,
        "f1" => F1,
        "em" => ExactMatch,
        _ => null,
    };

    public bool IsBetterThan(EvaluationResult other) =>
        MetricValue is double m ? m > (other.MetricValue ?? double.NegativeInfinity) : Loss < other.Loss;
}
