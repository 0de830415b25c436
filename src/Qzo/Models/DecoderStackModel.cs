using Qzo.Compute;

namespace Qzo.Models;

/// <summary>
/// A decoder of one token embedding table, a stack of layers and a final norm, with whole-sequence positions 0..T−1
/// whatever the padding (the Llama layout and Gemma 3): the tensors it lists; the forward pass is the subclass's. A
/// pipeline rank's model holds only its <see cref="CausalLanguageModel.Part"/>: the layers of its range, the embedding
/// on the first rank (and the last, when lm_head is tied to it), the final norm and lm_head on the last.
/// </summary>
public abstract class DecoderStackModel<TLayer> : CausalLanguageModel where TLayer : IDecoderLayer
{
    readonly ILinear? _lmHead;

    /// <param name="layers">the part's layers, in order.</param>
    /// <param name="lmHead">lm_head's weights as loaded (listed among the linears).</param>
    /// <param name="outputHead">What computes the logits: lm_head itself, or a wrapper around it (Gemma 3's soft cap).</param>
    private protected DecoderStackModel(ModelConfig config, IBackend backend, ModelPart part, Parameter? embedding,
                                        IReadOnlyList<TLayer> layers, Parameter? finalNorm, ILinear? lmHead, ILinear? outputHead,
                                        IReadOnlyList<string> unusedTensors)
        : base(config, backend, part, outputHead, unusedTensors)
    {
        if (layers.Count != part.LayerCount) throw new ArgumentException($"{layers.Count} layers for {part}", nameof(layers));
        Embedding = embedding;
        Layers = layers;
        FinalNorm = finalNorm;
        _lmHead = lmHead;
    }

    /// <summary>The token embedding table; null on a pipeline rank that neither embeds nor ties lm_head to it.</summary>
    public Parameter? Embedding { get; }
    /// <summary>The part's decoder layers: <c>Layers[i]</c> is layer <c>Part.FirstLayer + i</c> of the model.</summary>
    public IReadOnlyList<TLayer> Layers { get; }
    /// <summary>The final norm; null on a pipeline rank before the last.</summary>
    public Parameter? FinalNorm { get; }

    /// <summary>Decoder layer <paramref name="index"/> of the whole model, which this part holds.</summary>
    private protected TLayer Layer(int index) => Layers[index - Part.FirstLayer];

    public override IEnumerable<ILinear> AllLinears => Layers.SelectMany(l => l.Linears).Concat(new[] { _lmHead }.OfType<ILinear>());

    public override IEnumerable<Parameter> AllParameters =>
        new[] { Embedding, FinalNorm }.OfType<Parameter>()
            .Concat(Layers.SelectMany(l => l.Norms))
            .Concat(AllLinears.SelectMany(l => l.Parameters))
            .DistinctBy(p => p.Name);

    private protected override IEnumerable<Parameter> Tables => new[] { Embedding }.OfType<Parameter>();

    private protected override int[] WholeSequencePositions(TokenBatch batch) =>
        Enumerable.Range(0, batch.Batch * batch.Seq).Select(i => i % batch.Seq).ToArray();
}
