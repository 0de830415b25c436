namespace Qzo.Models.Architectures.Gemma3;

/// <summary>A Gemma 3 checkpoint one layer at a time: scaled token embeddings, then <see cref="Gemma3Model.RunLayer"/> per layer.</summary>
sealed class Gemma3LayerwiseRunner : ILayerwiseRunner
{
    readonly LayerwiseDecoder _decoder;
    readonly Gemma3Config _config;
    readonly string _prefix;
    readonly Gemma3RopeTables _rope;

    public Gemma3LayerwiseRunner(LayerwiseDecoder decoder, Gemma3Config config, int maxSeq)
    {
        _decoder = decoder;
        _config = config;
        _prefix = Gemma3Tensors.Prefix(decoder.Loader.Checkpoint);
        _rope = new Gemma3RopeTables(decoder.Backend, config);
        _rope.Ensure(maxSeq);
    }

    public void Embed(int[] ids, int seq, float[] hidden)
    {
        _decoder.GatherRows(_prefix + "embed_tokens.weight", ids, _config.HiddenSize, hidden);
        float scale = Gemma3Model.EmbeddingScale(_config, _decoder.Backend.ComputeType);
        for (int i = 0; i < hidden.Length; i++) hidden[i] *= scale;
    }

    public LayerwiseLayer OpenLayer(int index, Func<ILinear, ILinear> watch)
    {
        var c = _config;
        var layer = Gemma3Loader.BuildLayer(_decoder.Loader, c, _prefix, index);
        var watched = layer.Watched(watch);
        var a = _decoder.Activations;
        var context = _decoder.Context;
        var (cos, sin) = _rope.For(index);
        return new LayerwiseLayer(layer, [[layer.Q, layer.K, layer.V], [layer.O], [layer.Gate, layer.Up], [layer.Down]],
            (batch, seq) => Gemma3Model.RunLayer(c, watched, batch * seq, a, context, cos, sin,
                () => context.Backend.CausalAttention(a.Q, a.K, a.V, a.Mask, a.Attention, batch, seq, c.Heads, c.KvHeads, c.HeadDim,
                                                      c.AttentionWindow(index), c.AttentionScale)));
    }

    public void Dispose() => _rope.Dispose();
}
