namespace Qzo.Models.Architectures.LlamaLayout;

/// <summary>One decoder layer: pre-norm attention and pre-norm SwiGLU MLP, each with a residual.</summary>
public sealed class LlamaLayer : IDecoderLayer
{
    public required Parameter InputNorm { get; init; }
    public required Parameter PostAttentionNorm { get; init; }
    public required ILinear Q { get; init; }
    public required ILinear K { get; init; }
    public required ILinear V { get; init; }
    public required ILinear O { get; init; }
    public required ILinear Gate { get; init; }
    public required ILinear Up { get; init; }
    public required ILinear Down { get; init; }
    /// <summary>Per-head RMSNorm weights [head_dim] of q and k, where the family has them (<see cref="LlamaConfig.QkNorm"/>).</summary>
    public Parameter? QNorm { get; init; }
    public Parameter? KNorm { get; init; }

    public IEnumerable<Parameter> Norms => new[] { InputNorm, PostAttentionNorm, QNorm, KNorm }.OfType<Parameter>();

    public IEnumerable<ILinear> Linears => [Q, K, V, O, Gate, Up, Down];

    public void Dispose()
    {
        foreach (var norm in Norms) norm.Dispose();
        foreach (var linear in Linears) linear.Dispose();
    }
}
