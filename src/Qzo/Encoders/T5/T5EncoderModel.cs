using Qzo.Compute;
using Qzo.Models;
using Qzo.Numerics;

namespace Qzo.Encoders.T5;

/// <summary>
/// T5EncoderModel's forward pass as transformers 5.17 computes it (models/t5/modeling_t5.py): x = shared[ids] (not
/// scaled); per block, x += o(attention(RMS₁(x))) and x += wo(act(wi_0(RMS₂(x))) · wi_1(RMS₂(x))) (gated; wo(act(wi(·)))
/// otherwise); then final_layer_norm. RMS is T5LayerNorm: x / sqrt(mean(x²) + eps) · weight, no mean, no bias.
/// Attention scores are q·kᵀ with no 1/√d_kv scaling, plus the relative position bias [heads, seq, seq] of block 0
/// (<see cref="T5RelativePosition"/>), made once per sequence length on the host and reused by every block; every query
/// sees every key (Stable Diffusion 3 passes no attention mask, so padding is attended). The encoder is frozen.
/// </summary>
public sealed class T5EncoderModel : IDisposable
{
    readonly EncoderScratch _scratch;
    readonly float[] _relativeTable;
    DeviceTensor? _bias;
    int _biasSeq;

    internal T5EncoderModel(T5EncoderConfig config, IBackend backend, Parameter embedding, float[] relativeTable,
                            IReadOnlyList<T5EncoderLayer> layers, Parameter finalNorm, IReadOnlyList<string> unusedTensors)
    {
        Config = config;
        Backend = backend;
        Embedding = embedding;
        _relativeTable = relativeTable;
        Layers = layers;
        FinalNorm = finalNorm;
        UnusedTensors = unusedTensors;
        _scratch = new EncoderScratch(backend, AllLinears.ToList(), config.DModel);
    }

    public T5EncoderConfig Config { get; }
    public IBackend Backend { get; }
    public Parameter Embedding { get; }
    public IReadOnlyList<T5EncoderLayer> Layers { get; }
    public Parameter FinalNorm { get; }
    /// <summary>Checkpoint tensors the model does not use (reported, never silently dropped).</summary>
    public IReadOnlyList<string> UnusedTensors { get; }

    public IEnumerable<ILinear> AllLinears => Layers.SelectMany(l => l.Linears);

    /// <summary>Block 0's relative position bias for a sequence of <paramref name="seq"/> tokens, [heads, seq, seq].</summary>
    public float[] PositionBias(int seq) =>
        T5RelativePosition.Bias(_relativeTable, Config.Heads, seq, seq, Config.RelativeBuckets, Config.RelativeMaxDistance);

    /// <summary>
    /// Runs the encoder over <paramref name="ids"/> [batch, seq]; <paramref name="blockOutputs"/> names the blocks whose
    /// outputs to keep as well.
    /// </summary>
    public T5EncoderOutput Forward(ReadOnlySpan<int> ids, int batch, int seq, IEnumerable<int>? blockOutputs = null,
                                   Perturbation p = default)
    {
        var c = Config; var b = Backend;
        CheckIds(ids, batch, seq);
        var keep = (blockOutputs ?? []).ToHashSet();
        foreach (int i in keep)
            if (i < 0 || i >= c.Layers) throw new QzoException($"T5 encoder: block {i} does not exist (it has {c.Layers})");
        var context = _scratch.Context(p);
        int n = batch * seq, d = c.DModel;
        var f = b.ComputeType;
        const MemoryCategory act = MemoryCategory.Activations;
        using var idsT = b.Allocate(DType.I32, n, act);
        b.Upload(idsT, ids);
        using var x = b.Allocate(f, (long)n * d, act);
        using var normed = b.Allocate(f, (long)n * d, act);
        using var q = b.Allocate(f, (long)n * c.InnerDim, act);
        using var k = b.Allocate(f, (long)n * c.InnerDim, act);
        using var v = b.Allocate(f, (long)n * c.InnerDim, act);
        using var attention = b.Allocate(f, (long)n * c.InnerDim, act);
        using var gate = b.Allocate(f, (long)n * c.DFf, act);
        using var up = c.IsGated ? b.Allocate(f, (long)n * c.DFf, act) : null;
        var bias = BiasFor(seq);
        var kept = new Dictionary<int, DeviceTensor>();
        try
        {
            b.EmbeddingGather(context.Resolve(Embedding), idsT, x, n, d);
            for (int l = 0; l < Layers.Count; l++)
            {
                var layer = Layers[l];
                b.RmsNorm(x, context.ResolveVector(layer.AttentionNorm), normed, n, d, c.LayerNormEps);
                layer.Q.Forward(context, normed, n, q);
                layer.K.Forward(context, normed, n, k);
                layer.V.Forward(context, normed, n, v);
                b.Attention(q, k, v, bias, attention, batch, seq, seq, c.Heads, c.DKv, scale: 1);
                layer.O.Forward(context, attention, n, normed);
                b.AddInPlace(x, normed, (long)n * d);

                b.RmsNorm(x, context.ResolveVector(layer.MlpNorm), normed, n, d, c.LayerNormEps);
                layer.Wi0.Forward(context, normed, n, gate);
                if (layer.Wi1 is not null) layer.Wi1.Forward(context, normed, n, up!);
                Activate(gate, up, (long)n * c.DFf);
                layer.Wo.Forward(context, gate, n, normed);
                b.AddInPlace(x, normed, (long)n * d);
                if (keep.Contains(l))
                {
                    var copy = b.Allocate(f, (long)n * d, act);
                    b.Copy(x, copy, (long)n * d);
                    kept[l] = copy;
                }
            }
            var last = b.Allocate(f, (long)n * d, act);
            b.RmsNorm(x, context.ResolveVector(FinalNorm), last, n, d, c.LayerNormEps);
            return new T5EncoderOutput { Batch = batch, Seq = seq, LastHiddenState = last, BlockOutputs = kept };
        }
        catch
        {
            foreach (var t in kept.Values) t.Dispose();
            throw;
        }
    }

    void Activate(DeviceTensor gate, DeviceTensor? up, long count)
    {
        var b = Backend;
        switch (Config.FeedForward)
        {
            case T5FeedForward.GatedGeluTanh: b.GeluTanhMulInPlace(gate, up!, count); break;
            case T5FeedForward.GatedSilu: b.SiluMulInPlace(gate, up!, count); break;
            case T5FeedForward.Relu: b.ReluInPlace(gate, count); break;
            case T5FeedForward.GeluErf: b.ActivationInPlace(gate, Activation.GeluErf, count); break;
            case T5FeedForward.GeluTanh: b.ActivationInPlace(gate, Activation.GeluTanh, count); break;
            case T5FeedForward.Silu: b.ActivationInPlace(gate, Activation.Silu, count); break;
            default: throw new InvalidOperationException($"feed-forward {Config.FeedForward}");
        }
    }

    /// <summary>The F32 bias on the device for this sequence length, kept until another length comes.</summary>
    DeviceTensor BiasFor(int seq)
    {
        if (_bias is not null && _biasSeq == seq) return _bias;
        _bias?.Dispose();
        _bias = null;
        var values = PositionBias(seq);
        var tensor = Backend.Allocate(DType.F32, values.Length, MemoryCategory.Activations);
        Backend.Upload<float>(tensor, values);
        (_bias, _biasSeq) = (tensor, seq);
        return tensor;
    }

    void CheckIds(ReadOnlySpan<int> ids, int batch, int seq)
    {
        if (batch <= 0 || seq <= 0) throw new QzoException($"T5 encoder: empty batch ({batch} × {seq} tokens)");
        if (ids.Length != batch * seq) throw new QzoException($"T5 encoder: {ids.Length} token ids for {batch} × {seq}");
        foreach (int id in ids)
            if ((uint)id >= (uint)Config.VocabSize)
                throw new QzoException($"T5 encoder: token id {id} is outside its vocabulary of {Config.VocabSize}");
    }

    public void Dispose()
    {
        _scratch.Dispose();
        _bias?.Dispose();
        foreach (var layer in Layers) layer.Dispose();
        Embedding.Dispose(); FinalNorm.Dispose();
    }
}
