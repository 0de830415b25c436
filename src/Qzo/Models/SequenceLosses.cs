namespace Qzo.Models;

/// <summary>Summed negative log-likelihood and the number of scored tokens, per sequence of a batch.</summary>
public sealed record SequenceLosses(double[] Sum, int[] Count)
{
    public int TokenCount => Count.Sum();
    /// <summary>Mean over every scored token of the batch, as transformers' causal-LM loss.</summary>
    public double Mean => TokenCount == 0 ? 0 : Sum.Sum() / TokenCount;
}
