namespace Qzo.Models.Architectures.Opt;

/// <summary>One OPT decoder layer: attention and a ReLU MLP (fc1, fc2), each with a residual and a LayerNorm.</summary>
public sealed class OptLayer : IDisposable
{
    public required LayerNormParameters AttentionNorm { get; init; }
    public required LayerNormParameters MlpNorm { get; init; }
    public required ILinear Q { get; init; }
    public required ILinear K { get; init; }
    public required ILinear V { get; init; }
    public required ILinear Out { get; init; }
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
