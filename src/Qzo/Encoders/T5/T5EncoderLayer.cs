using Qzo.Models;

namespace Qzo.Encoders.T5;

/// <summary>
/// One T5 encoder block: RMS-normed self-attention (q, k, v, o) and an RMS-normed feed-forward block (wi_0 and wi_1 when
/// gated, wi otherwise; then wo), each with a residual. Norm weights only, no biases.
/// </summary>
public sealed class T5EncoderLayer : IDisposable
{
    public required Parameter AttentionNorm { get; init; }
    public required ILinear Q { get; init; }
    public required ILinear K { get; init; }
    public required ILinear V { get; init; }
    public required ILinear O { get; init; }
    public required Parameter MlpNorm { get; init; }
    /// <summary>wi_0 (gated) or wi.</summary>
    public required ILinear Wi0 { get; init; }
    /// <summary>wi_1 (gated only).</summary>
    public required ILinear? Wi1 { get; init; }
    public required ILinear Wo { get; init; }

    public IEnumerable<ILinear> Linears => new[] { Q, K, V, O, Wi0, Wi1, Wo }.OfType<ILinear>();

    public void Dispose()
    {
        AttentionNorm.Dispose(); MlpNorm.Dispose();
        foreach (var linear in Linears) linear.Dispose();
    }
}
