namespace Qzo.Models.Architectures.Gemma3;

/// <summary>One decoder layer: four (1 + weight) RMSNorms around attention and the GeGLU MLP, and q/k norms per head.</summary>
public sealed class Gemma3Layer : IDecoderLayer
{
    public required Parameter InputNorm { get; init; }
    public required Parameter PostAttentionNorm { get; init; }
    public required Parameter PreFeedforwardNorm { get; init; }
    public required Parameter PostFeedforwardNorm { get; init; }
    public required Parameter QNorm { get; init; }
    public required Parameter KNorm { get; init; }
    public required ILinear Q { get; init; }
    public required ILinear K { get; init; }
    public required ILinear V { get; init; }
    public required ILinear O { get; init; }
    public required ILinear Gate { get; init; }
    public required ILinear Up { get; init; }
    public required ILinear Down { get; init; }

    public IEnumerable<Parameter> Norms => [InputNorm, PostAttentionNorm, PreFeedforwardNorm, PostFeedforwardNorm, QNorm, KNorm];

    public IEnumerable<ILinear> Linears => [Q, K, V, O, Gate, Up, Down];

    /// <summary>The same layer with its linears seen through <paramref name="watch"/> (calibration).</summary>
    public Gemma3Layer Watched(Func<ILinear, ILinear> watch) => new()
    {
        InputNorm = InputNorm, PostAttentionNorm = PostAttentionNorm, PreFeedforwardNorm = PreFeedforwardNorm,
        PostFeedforwardNorm = PostFeedforwardNorm, QNorm = QNorm, KNorm = KNorm,
        Q = watch(Q), K = watch(K), V = watch(V), O = watch(O), Gate = watch(Gate), Up = watch(Up), Down = watch(Down),
    };

    public void Dispose()
    {
        foreach (var norm in Norms) norm.Dispose();
        foreach (var linear in Linears) linear.Dispose();
    }
}
