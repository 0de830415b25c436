using Qzo.Models;

namespace Qzo.Encoders.Clip;

/// <summary>One CLIP encoder layer: pre-LayerNorm causal self-attention and a two-layer MLP, each with a residual.</summary>
public sealed class ClipTextLayer : IDisposable
{
    public required LayerNormParameters AttentionNorm { get; init; }
    public required ILinear Q { get; init; }
    public required ILinear K { get; init; }
    public required ILinear V { get; init; }
    public required ILinear Out { get; init; }
    public required LayerNormParameters MlpNorm { get; init; }
    public required ILinear Fc1 { get; init; }
    public required ILinear Fc2 { get; init; }

    public IEnumerable<ILinear> Linears => [Q, K, V, Out, Fc1, Fc2];
    public IEnumerable<Parameter> NormParameters => AttentionNorm.Parameters.Concat(MlpNorm.Parameters);

    public void Dispose()
    {
        AttentionNorm.Dispose(); MlpNorm.Dispose();
        foreach (var linear in Linears) linear.Dispose();
    }
}
