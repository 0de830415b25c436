using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// The Llama forward pass as transformers computes it (formats.md §3): embed → for each layer
/// [x += o_proj(attn(rope(q), rope(k), v) of RMSNorm(x)); x += down(silu(gate(n))·up(n)) with n = RMSNorm(x)]
/// → final RMSNorm → lm_head. Whole-sequence, nothing kept for a backward pass; the loss is computed in
/// chunks of rows so the full [tokens × vocab] logits never exist.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    readonly float[] _invFreq;
    DeviceTensor? _weightScratch, _vectorScratch, _ropeCos, _ropeSin;
    int _ropePositions;
    ActivationBuffers? _activations;

    internal LlamaModel(LlamaConfig config, IBackend backend, Parameter embedding, IReadOnlyList<LlamaLayer> layers,
                        Parameter finalNorm, ILinear lmHead, IReadOnlyList<string> unusedTensors)
    {
        Config = config;
        Backend = backend;
        Embedding = embedding;
        Layers = layers;
        FinalNorm = finalNorm;
        LmHead = lmHead;
        UnusedTensors = unusedTensors;

        _invFreq = config.Rope.InverseFrequencies(config.HeadDim);
    }

    /// <summary>
    /// The weight scratch holds one dequantized or perturbed matrix at a time, so it is sized to the largest
    /// linear, or to the embedding when that must be materialized (trained, or kept as an fp32 master).
    /// Sized at the first forward pass, once it is known what trains.
    /// </summary>
    ForwardContext Context(Perturbation p)
    {
        if (_weightScratch is null)
        {
            long weights = AllLinears.Select(l => (long)l.InFeatures * l.OutFeatures).Max();
            if (Embedding.TrainableIndex is not null || Embedding.Values.DType != Backend.ComputeType) weights = Math.Max(weights, Embedding.Length);
            _weightScratch = Backend.Allocate(Backend.ComputeType, weights, MemoryCategory.Workspace);
            long vectors = Math.Max(Config.HiddenSize, AllLinears.Max(l => l.OutFeatures));
            _vectorScratch = Backend.Allocate(Backend.ComputeType, vectors, MemoryCategory.Workspace);
        }
        return new ForwardContext(Backend, p, _weightScratch, _vectorScratch!);
    }

    public LlamaConfig Config { get; }
    public IBackend Backend { get; }
    public Parameter Embedding { get; }
    public IReadOnlyList<LlamaLayer> Layers { get; }
    public Parameter FinalNorm { get; }
    public ILinear LmHead { get; }
    /// <summary>Checkpoint tensors the model does not use (reported, never silently dropped).</summary>
    public IReadOnlyList<string> UnusedTensors { get; }

    /// <summary>How many logits one lm_head chunk may hold ([rows × vocab]); the full [tokens × vocab] never exists.</summary>
    public long LogitChunkElements
    {
        get => _logitChunkElements;
        set { _logitChunkElements = Math.Max(1, value); _activations?.Dispose(); _activations = null; }
    }
    long _logitChunkElements = 32L << 20; // 128 MiB of fp32 logits: big GEMMs on a GPU, still modest on the CPU

    public IEnumerable<ILinear> AllLinears => Layers.SelectMany(l => l.Linears).Append(LmHead);

    /// <summary>Every distinct tensor of the model (a tied lm_head appears once, as the embedding).</summary>
    public IEnumerable<Parameter> AllParameters =>
        new[] { Embedding, FinalNorm }
            .Concat(Layers.SelectMany(l => new[] { l.InputNorm, l.PostAttentionNorm }))
            .Concat(AllLinears.SelectMany(l => l.Parameters))
            .DistinctBy(p => p.Name);

    /// <summary>Trainable tensors in index order (t = 0, 1, ...).</summary>
    public IReadOnlyList<Parameter> Trainable =>
        AllParameters.Where(p => p.TrainableIndex is not null).OrderBy(p => p.TrainableIndex).ToList();

    /// <summary>Per-sequence summed NLL of the labelled tokens under perturbation <paramref name="p"/>.</summary>
    public SequenceLosses Loss(TokenBatch batch, Perturbation p)
    {
        var a = RunDecoder(batch, p, out var context);
        var targets = batch.ShiftedTargets();
        var rows = Enumerable.Range(0, targets.Length).Where(r => targets[r] >= 0).ToArray();
        var sums = new double[batch.Batch];
        var counts = new int[batch.Batch];
        var nll = new float[rows.Length];
        ProjectRows(a, context, rows, (start, count, logits) =>
        {
            var chunkTargets = new int[count];
            for (int r = 0; r < count; r++) chunkTargets[r] = targets[rows[start + r]];
            Backend.Upload<int>(a.ChunkIds, chunkTargets);
            Backend.CrossEntropyRows(logits, a.ChunkIds, a.ChunkNll, count, Config.VocabSize);
            Backend.Download(a.ChunkNll, nll.AsSpan(start, count));
        });
        for (int r = 0; r < rows.Length; r++)
        {
            int b = rows[r] / batch.Seq;
            sums[b] += nll[r];
            counts[b]++;
        }
        return new SequenceLosses(sums, counts);
    }

    /// <summary>The logits at the given flat positions (b·Seq + t), one row of vocab floats each.</summary>
    public float[][] Logits(TokenBatch batch, IReadOnlyList<int> positions, Perturbation p = default)
    {
        var a = RunDecoder(batch, p, out var context);
        var result = new float[positions.Count][];
        ProjectRows(a, context, positions.ToArray(), (start, count, logits) =>
        {
            for (int r = 0; r < count; r++)
            {
                result[start + r] = new float[Config.VocabSize];
                Backend.Download<float>(logits, result[start + r], (long)r * Config.VocabSize);
            }
        });
        return result;
    }

    ActivationBuffers RunDecoder(TokenBatch batch, Perturbation p, out ForwardContext context)
    {
        var c = Config; var b = Backend;
        int n = batch.Batch * batch.Seq, h = c.HiddenSize;
        var a = Buffers(n);
        context = Context(p);

        b.Upload<int>(a.Ids, batch.Ids);
        b.Upload<int>(a.Mask, batch.AttentionMask);
        var positions = new int[n];
        for (int i = 0; i < n; i++) positions[i] = i % batch.Seq;
        b.Upload<int>(a.Positions, positions);
        EnsureRopeTables(batch.Seq);

        b.EmbeddingGather(context.Resolve(Embedding), a.Ids, a.X, n, h);
        foreach (var layer in Layers)
        {
            b.RmsNorm(a.X, context.ResolveVector(layer.InputNorm), a.Normed, n, h, c.RmsNormEps);
            layer.Q.Forward(context, a.Normed, n, a.Q);
            layer.K.Forward(context, a.Normed, n, a.K);
            layer.V.Forward(context, a.Normed, n, a.V);
            b.ApplyRope(a.Q, a.Positions, _ropeCos!, _ropeSin!, n, c.Heads, c.HeadDim);
            b.ApplyRope(a.K, a.Positions, _ropeCos!, _ropeSin!, n, c.KvHeads, c.HeadDim);
            b.CausalAttention(a.Q, a.K, a.V, a.Mask, a.Attention, batch.Batch, batch.Seq, c.Heads, c.KvHeads, c.HeadDim);
            layer.O.Forward(context, a.Attention, n, a.Normed);
            b.AddInPlace(a.X, a.Normed, (long)n * h);

            b.RmsNorm(a.X, context.ResolveVector(layer.PostAttentionNorm), a.Normed, n, h, c.RmsNormEps);
            layer.Gate.Forward(context, a.Normed, n, a.Gate);
            layer.Up.Forward(context, a.Normed, n, a.Up);
            b.SiluMulInPlace(a.Gate, a.Up, (long)n * c.IntermediateSize);
            layer.Down.Forward(context, a.Gate, n, a.Normed);
            b.AddInPlace(a.X, a.Normed, (long)n * h);
        }
        b.RmsNorm(a.X, context.ResolveVector(FinalNorm), a.Normed, n, h, c.RmsNormEps);
        return a;
    }

    /// <summary>Runs lm_head over the selected rows of the final hidden state, a chunk at a time.</summary>
    void ProjectRows(ActivationBuffers a, ForwardContext context, int[] rows, Action<int, int, DeviceTensor> consume)
    {
        for (int start = 0; start < rows.Length; start += a.ChunkRows)
        {
            int count = Math.Min(a.ChunkRows, rows.Length - start);
            Backend.Upload<int>(a.ChunkIds, rows.AsSpan(start, count));
            Backend.EmbeddingGather(a.Normed, a.ChunkIds, a.ChunkHidden, count, Config.HiddenSize);
            LmHead.Forward(context, a.ChunkHidden, count, a.ChunkLogits);
            consume(start, count, a.ChunkLogits);
        }
    }

    /// <summary>
    /// cos and sin of position·invFreq for positions 0..seq−1, computed once on the host with an fp32 angle
    /// (as transformers does) and kept until a longer sequence arrives.
    /// </summary>
    void EnsureRopeTables(int seq)
    {
        if (seq <= _ropePositions) return;
        int half = _invFreq.Length, positions = Math.Max(seq, 256);
        var cos = new float[positions * half];
        var sin = new float[positions * half];
        for (int p = 0; p < positions; p++)
            for (int i = 0; i < half; i++)
            {
                float angle = p * _invFreq[i];
                cos[p * half + i] = MathF.Cos(angle);
                sin[p * half + i] = MathF.Sin(angle);
            }
        _ropeCos?.Dispose(); _ropeSin?.Dispose();
        _ropeCos = Backend.Allocate(DType.F32, cos.Length, MemoryCategory.Workspace);
        _ropeSin = Backend.Allocate(DType.F32, sin.Length, MemoryCategory.Workspace);
        Backend.Upload<float>(_ropeCos, cos);
        Backend.Upload<float>(_ropeSin, sin);
        _ropePositions = positions;
    }

    ActivationBuffers Buffers(int rows)
    {
        if (_activations is not null && _activations.Rows >= rows) return _activations;
        _activations?.Dispose();
        _activations = new ActivationBuffers(Backend, Config, rows, LogitChunkElements);
        return _activations;
    }

    public void Dispose()
    {
        _activations?.Dispose();
        foreach (var p in AllParameters) p.Dispose();
        foreach (var linear in AllLinears) linear.Dispose();
        _weightScratch?.Dispose(); _vectorScratch?.Dispose(); _ropeCos?.Dispose(); _ropeSin?.Dispose();
    }
}
