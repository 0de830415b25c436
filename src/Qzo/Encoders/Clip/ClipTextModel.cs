using Qzo.Compute;
using Qzo.Models;
using Qzo.Numerics;

namespace Qzo.Encoders.Clip;

/// <summary>
/// CLIPTextModelWithProjection's forward pass as transformers 5.17 computes it (models/clip/modeling_clip.py):
/// x = token_embedding[ids] + position_embedding[0..seq); per layer, x += out_proj(attn(LN₁(x))) and
/// x += fc2(act(fc1(LN₂(x)))), where attention is causal over every token (Stable Diffusion 3 passes no attention mask,
/// so padding is attended like any token) with scores scaled by head_dim^−½; then final_layer_norm, the pooled state
/// (<see cref="ClipPooling"/>) and text_projection. The encoder is frozen: its tensors load in the compute type.
/// </summary>
public sealed class ClipTextModel : IDisposable
{
    readonly EncoderScratch _scratch;

    internal ClipTextModel(ClipTextConfig config, IBackend backend, Parameter tokens, Parameter positions,
                           IReadOnlyList<ClipTextLayer> layers, LayerNormParameters finalNorm, ILinear? projection,
                           IReadOnlyList<string> unusedTensors)
    {
        Config = config;
        Backend = backend;
        TokenEmbedding = tokens;
        PositionEmbedding = positions;
        Layers = layers;
        FinalNorm = finalNorm;
        Projection = projection;
        UnusedTensors = unusedTensors;
        _scratch = new EncoderScratch(backend, AllLinears.ToList(), config.HiddenSize);
    }

    public ClipTextConfig Config { get; }
    public IBackend Backend { get; }
    public Parameter TokenEmbedding { get; }
    public Parameter PositionEmbedding { get; }
    public IReadOnlyList<ClipTextLayer> Layers { get; }
    public LayerNormParameters FinalNorm { get; }
    /// <summary>text_projection (no bias); null for a CLIPTextModel.</summary>
    public ILinear? Projection { get; }
    /// <summary>Checkpoint tensors the model does not use (reported, never silently dropped).</summary>
    public IReadOnlyList<string> UnusedTensors { get; }

    public IEnumerable<ILinear> AllLinears => Layers.SelectMany(l => l.Linears).Concat(new[] { Projection }.OfType<ILinear>());

    /// <summary>
    /// Runs the tower over <paramref name="ids"/> [batch, seq] (seq ≤ max_position_embeddings). <paramref name="hiddenStates"/>
    /// names the entries of transformers' hidden_states tuple to keep, 0..layers or negative from the end as in Python
    /// (Stable Diffusion 3 keeps −2).
    /// </summary>
    public ClipTextOutput Forward(ReadOnlySpan<int> ids, int batch, int seq, IEnumerable<int>? hiddenStates = null,
                                  Perturbation p = default)
    {
        var c = Config; var b = Backend;
        CheckIds(ids, batch, seq);
        var keep = KeptIndices(hiddenStates);
        var context = _scratch.Context(p);
        int n = batch * seq, h = c.HiddenSize;
        var f = b.ComputeType;
        const MemoryCategory act = MemoryCategory.Activations;
        var kept = new Dictionary<int, DeviceTensor>();
        DeviceTensor? last = null, pooled = null, embeds = null;
        using var idsT = Ints(ids);
        using var positionsT = Ints(Enumerable.Range(0, n).Select(i => i % seq).ToArray());
        using var x = b.Allocate(f, (long)n * h, act);
        using var normed = b.Allocate(f, (long)n * h, act);
        try
        {
            b.EmbeddingGather(context.Resolve(TokenEmbedding), idsT, x, n, h);
            b.EmbeddingGather(context.Resolve(PositionEmbedding), positionsT, normed, n, h);
            b.AddInPlace(x, normed, (long)n * h);
            Keep(0);
            using (var a = new LayerBuffers(b, c, n))
                for (int l = 0; l < Layers.Count; l++)
                {
                    RunLayer(Layers[l], context, a, x, normed, batch, seq);
                    Keep(l + 1);
                }

            last = b.Allocate(f, (long)n * h, act);
            FinalNorm.Apply(context, x, last, n, h, c.LayerNormEps);
            var positions = ClipPooling.Positions(ids, batch, seq, c.EosTokenId);
            pooled = b.Allocate(f, (long)batch * h, act);
            using (var rows = Ints(positions.Select((t, row) => row * seq + t).ToArray()))
                b.EmbeddingGather(last, rows, pooled, batch, h);
            if (Projection is not null)
            {
                embeds = b.Allocate(f, (long)batch * c.ProjectionDim, act);
                Projection.Forward(context, pooled, batch, embeds);
            }
            return new ClipTextOutput
            {
                Batch = batch, Seq = seq, LastHiddenState = last, Pooled = pooled, TextEmbeds = embeds,
                PooledPositions = positions, HiddenStates = kept,
            };
        }
        catch
        {
            last?.Dispose(); pooled?.Dispose(); embeds?.Dispose();
            foreach (var t in kept.Values) t.Dispose();
            throw;
        }

        void Keep(int index)
        {
            if (!keep.Contains(index)) return;
            var copy = b.Allocate(f, (long)n * h, act);
            b.Copy(x, copy, (long)n * h);
            kept[index] = copy;
        }
    }

    /// <summary>One layer over x [batch·seq, hidden], in place; <paramref name="normed"/> is scratch of the same size.</summary>
    void RunLayer(ClipTextLayer layer, ForwardContext context, LayerBuffers a, DeviceTensor x, DeviceTensor normed, int batch, int seq)
    {
        var c = Config; var b = Backend;
        int n = batch * seq, h = c.HiddenSize;
        layer.AttentionNorm.Apply(context, x, normed, n, h, c.LayerNormEps);
        layer.Q.Forward(context, normed, n, a.Q);
        layer.K.Forward(context, normed, n, a.K);
        layer.V.Forward(context, normed, n, a.V);
        b.CausalAttention(a.Q, a.K, a.V, a.KeyMask, a.Attention, batch, seq, c.Heads, c.Heads, c.HeadDim, slidingWindow: 0,
                          scale: 1f / MathF.Sqrt(c.HeadDim));
        layer.Out.Forward(context, a.Attention, n, normed);
        b.AddInPlace(x, normed, (long)n * h);

        layer.MlpNorm.Apply(context, x, normed, n, h, c.LayerNormEps);
        layer.Fc1.Forward(context, normed, n, a.Mlp);
        b.ActivationInPlace(a.Mlp, c.Activation, (long)n * c.IntermediateSize);
        layer.Fc2.Forward(context, a.Mlp, n, normed);
        b.AddInPlace(x, normed, (long)n * h);
    }

    void CheckIds(ReadOnlySpan<int> ids, int batch, int seq)
    {
        if (batch <= 0 || seq <= 0) throw new QzoException($"CLIP text encoder: empty batch ({batch} × {seq} tokens)");
        if (ids.Length != batch * seq) throw new QzoException($"CLIP text encoder: {ids.Length} token ids for {batch} × {seq}");
        if (seq > Config.MaxPositions)
            throw new QzoException($"CLIP text encoder: {seq} tokens, more than its {Config.MaxPositions} positions " +
                                   "(max_position_embeddings)");
        foreach (int id in ids)
            if ((uint)id >= (uint)Config.VocabSize)
                throw new QzoException($"CLIP text encoder: token id {id} is outside its vocabulary of {Config.VocabSize}");
    }

    HashSet<int> KeptIndices(IEnumerable<int>? indices)
    {
        int count = Layers.Count + 1;
        var set = new HashSet<int>();
        foreach (int i in indices ?? [])
        {
            if (i < -count || i >= count)
                throw new QzoException(
                    $"CLIP text encoder: hidden state {i} does not exist (it has {count}: embeddings and {Layers.Count} layers)");
            set.Add(i < 0 ? i + count : i);
        }
        return set;
    }

    DeviceTensor Ints(int[] values) => Ints((ReadOnlySpan<int>)values);

    DeviceTensor Ints(ReadOnlySpan<int> values)
    {
        var t = Backend.Allocate(DType.I32, values.Length, MemoryCategory.Activations);
        Backend.Upload(t, values);
        return t;
    }

    /// <summary>The per-layer activations, reused by every layer.</summary>
    sealed class LayerBuffers : IDisposable
    {
        public LayerBuffers(IBackend b, ClipTextConfig c, int n)
        {
            const MemoryCategory act = MemoryCategory.Activations;
            long width = (long)n * c.HiddenSize;
            Q = b.Allocate(b.ComputeType, width, act);
            K = b.Allocate(b.ComputeType, width, act);
            V = b.Allocate(b.ComputeType, width, act);
            Attention = b.Allocate(b.ComputeType, width, act);
            Mlp = b.Allocate(b.ComputeType, (long)n * c.IntermediateSize, act);
            KeyMask = b.Allocate(DType.I32, n, act);
            b.Upload<int>(KeyMask, Enumerable.Repeat(1, n).ToArray());
        }

        public DeviceTensor Q { get; }
        public DeviceTensor K { get; }
        public DeviceTensor V { get; }
        public DeviceTensor Attention { get; }
        public DeviceTensor Mlp { get; }
        /// <summary>All ones: every token is attended (causally), padding included.</summary>
        public DeviceTensor KeyMask { get; }

        public void Dispose() { Q.Dispose(); K.Dispose(); V.Dispose(); Attention.Dispose(); Mlp.Dispose(); KeyMask.Dispose(); }
    }

    public void Dispose()
    {
        _scratch.Dispose();
        foreach (var layer in Layers) layer.Dispose();
        TokenEmbedding.Dispose(); PositionEmbedding.Dispose(); FinalNorm.Dispose(); Projection?.Dispose();
    }
}
