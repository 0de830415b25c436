using Qzo.Compute;

namespace Qzo.Models;

/// <summary>
/// A decoder of one token embedding table, a stack of layers and a final norm, with whole-sequence positions 0..T−1
/// whatever the padding (the Llama layout and Gemma 3): the tensors it lists; the forward pass is the subclass's.
/// </summary>
public abstract class DecoderStackModel<TLayer> : CausalLanguageModel where TLayer : IDecoderLayer
{
    readonly ILinear _lmHead;

    /// <param name="lmHead">lm_head's weights as loaded (listed among the linears).</param>
    /// <param name="outputHead">What computes the logits: lm_head itself, or a wrapper around it (Gemma 3's soft cap).</param>
    private protected DecoderStackModel(ModelConfig config, IBackend backend, Parameter embedding, IReadOnlyList<TLayer> layers,
                                        Parameter finalNorm, ILinear lmHead, ILinear outputHead, IReadOnlyList<string> unusedTensors)
        : base(config, backend, outputHead, unusedTensors)
    {
        Embedding = embedding;
        Layers = layers;
        FinalNorm = finalNorm;
        _lmHead = lmHead;
    }

    public Parameter Embedding { get; }
    public IReadOnlyList<TLayer> Layers { get; }
    public Parameter FinalNorm { get; }

    public override IEnumerable<ILinear> AllLinears => Layers.SelectMany(l => l.Linears).Append(_lmHead);

    public override IEnumerable<Parameter> AllParameters =>
        new[] { Embedding, FinalNorm }
            .Concat(Layers.SelectMany(l => l.Norms))
            .Concat(AllLinears.SelectMany(l => l.Parameters))
            .DistinctBy(p => p.Name);

    private protected override IEnumerable<Parameter> Tables => [Embedding];

    private protected override int[] WholeSequencePositions(TokenBatch batch) =>
        Enumerable.Range(0, batch.Batch * batch.Seq).Select(i => i % batch.Seq).ToArray();
}
