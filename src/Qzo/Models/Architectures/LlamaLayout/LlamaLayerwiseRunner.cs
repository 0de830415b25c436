using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models.Architectures.LlamaLayout;

/// <summary>A Llama-layout checkpoint one layer at a time: token embeddings, then <see cref="LlamaModel.RunLayer"/> per layer.</summary>
sealed class LlamaLayerwiseRunner : ILayerwiseRunner
{
    readonly LayerwiseDecoder _decoder;
    readonly LlamaConfig _config;
    readonly DeviceTensor _ropeCos, _ropeSin;

    public LlamaLayerwiseRunner(LayerwiseDecoder decoder, LlamaConfig config, int maxSeq)
    {
        _decoder = decoder;
        _config = config;
        var (cos, sin) = LlamaModel.RopeTables(config.Rope.InverseFrequencies(config.HeadDim), maxSeq);
        var backend = decoder.Backend;
        _ropeCos = backend.Allocate(DType.F32, cos.Length, MemoryCategory.Workspace);
        _ropeSin = backend.Allocate(DType.F32, sin.Length, MemoryCategory.Workspace);
        backend.Upload<float>(_ropeCos, cos);
        backend.Upload<float>(_ropeSin, sin);
    }

    public void Embed(int[] ids, int seq, float[] hidden) =>
        _decoder.GatherRows("model.embed_tokens.weight", ids, _config.HiddenSize, hidden);

    public LayerwiseLayer OpenLayer(int index, Func<ILinear, ILinear> watch)
    {
        var c = _config;
        var layer = LlamaLoader.BuildLayer(_decoder.Loader, c, index);
        var watched = new LlamaLayer
        {
            InputNorm = layer.InputNorm, PostAttentionNorm = layer.PostAttentionNorm, QNorm = layer.QNorm, KNorm = layer.KNorm,
            Q = watch(layer.Q), K = watch(layer.K), V = watch(layer.V), O = watch(layer.O),
            Gate = watch(layer.Gate), Up = watch(layer.Up), Down = watch(layer.Down),
        };
        var a = _decoder.Activations;
        var context = _decoder.Context;
        return new LayerwiseLayer(layer, [[layer.Q, layer.K, layer.V], [layer.O], [layer.Gate, layer.Up], [layer.Down]],
            (batch, seq) => LlamaModel.RunLayer(c, watched, batch * seq, a, context, _ropeCos, _ropeSin,
                () => context.Backend.CausalAttention(a.Q, a.K, a.V, a.Mask, a.Attention, batch, seq, c.Heads, c.KvHeads, c.HeadDim,
                                                      c.AttentionWindow(index))));
    }

    public void Dispose() { _ropeCos.Dispose(); _ropeSin.Dispose(); }
}
