using Qzo.Compute;

namespace Qzo.Models;

/// <summary>
/// What every architecture shares: a decoder (the subclass's forward pass) followed by lm_head, whose logits
/// are computed in chunks of rows so the full [tokens × vocab] never exists, the loss on top of them, the
/// scratch buffers, and the list of trainable tensors. Whole-sequence passes for training and scoring, nothing kept for a
/// backward pass; generation's passes extend a KV cache instead (CausalLanguageModel.Cached.cs). A model may hold only a
/// pipeline rank's <see cref="Part"/> of the decoder; its passes then run through the pipeline (CausalLanguageModel.Pipeline.cs).
/// </summary>
public abstract partial class CausalLanguageModel : IDisposable
{
    DeviceTensor? _weightScratch, _vectorScratch, _biasScratch;
    ActivationBuffers? _activations;
    long _logitChunkElements = 32L << 20; // 128 MiB of fp32 logits: big GEMMs on a GPU, still modest on the CPU

    /// <param name="lmHead">null where the part holds no output end (a pipeline rank before the last).</param>
    private protected CausalLanguageModel(ModelConfig config, IBackend backend, ModelPart part, ILinear? lmHead,
                                          IReadOnlyList<string> unusedTensors)
    {
        Config = config;
        Backend = backend;
        Part = part;
        LmHead = lmHead;
        UnusedTensors = unusedTensors;
    }

    public ModelConfig Config { get; }
    public IBackend Backend { get; }
    /// <summary>The layers and ends this model holds: all of them, unless it is one rank's stage of a pipeline.</summary>
    public ModelPart Part { get; }
    /// <summary>lm_head, or null where <see cref="Part"/> holds no output end.</summary>
    public ILinear? LmHead { get; }
    /// <summary>Checkpoint tensors the model does not use (reported, never silently dropped).</summary>
    public IReadOnlyList<string> UnusedTensors { get; internal set; }

    /// <summary>How many logits one lm_head chunk may hold ([rows × vocab]); the full [tokens × vocab] never exists.</summary>
    public long LogitChunkElements
    {
        get => _logitChunkElements;
        set { _logitChunkElements = Math.Max(1, value); _activations?.Dispose(); _activations = null; }
    }

    /// <summary>Every linear layer, lm_head included.</summary>
    public abstract IEnumerable<ILinear> AllLinears { get; }

    /// <summary>Every distinct tensor of the model (a tied lm_head appears once, as the embedding).</summary>
    public abstract IEnumerable<Parameter> AllParameters { get; }

    /// <summary>Trainable tensors in index order (t = 0, 1, ...).</summary>
    public IReadOnlyList<Parameter> Trainable =>
        AllParameters.Where(p => p.TrainableIndex is not null).OrderBy(p => p.TrainableIndex).ToList();

    /// <summary>The widths the activation buffers need.</summary>
    private protected abstract ActivationShape Shape { get; }

    /// <summary>Embedding tables, read through the weight scratch when they train or are not in the compute type.</summary>
    private protected abstract IEnumerable<Parameter> Tables { get; }

    /// <summary>
    /// The decoder over the pass's tokens, whose ids and mask are in the buffers: returns the buffer holding the final
    /// hidden states [rows, hidden]. A pipeline rank runs the same four parts with its neighbours in between
    /// (<see cref="RunStage"/>).
    /// </summary>
    private protected DeviceTensor RunDecoder(DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        BeginPass(pass, a);
        Embed(pass, a, context);
        RunLayers(pass, a, context);
        return Finish(pass, a, context);
    }

    /// <summary>What every layer of the pass reads besides the hidden states: positions (and the RoPE tables they need).</summary>
    private protected abstract void BeginPass(DecoderPass pass, ActivationBuffers a);

    /// <summary>The hidden states before layer 0, into <c>a.X</c> [rows, hidden]: the input end.</summary>
    private protected abstract void Embed(DecoderPass pass, ActivationBuffers a, ForwardContext context);

    /// <summary>Decoder layer <paramref name="layer"/> (its index in the whole model) over <c>a.X</c>, in place.</summary>
    private protected abstract void RunDecoderLayer(int layer, DecoderPass pass, ActivationBuffers a, ForwardContext context);

    /// <summary>After the last layer: the buffer holding the final hidden states (after the final norm, where there is one).</summary>
    private protected abstract DeviceTensor Finish(DecoderPass pass, ActivationBuffers a, ForwardContext context);

    void RunLayers(DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        for (int layer = Part.FirstLayer; layer < Part.EndLayer; layer++) RunDecoderLayer(layer, pass, a, context);
    }

    /// <summary>
    /// Token positions of a whole-sequence pass: by default each token's index among its row's real tokens (−1 for
    /// padding), as transformers computes positions from the attention mask (OPT).
    /// </summary>
    private protected virtual int[] WholeSequencePositions(TokenBatch batch) => RealTokenPositions(batch);

    /// <summary>The most positions the model can embed (OPT's learned table); null where positions are computed (RoPE).</summary>
    public virtual int? PositionLimit => null;

    /// <summary>Per token, the count of real tokens before it in its row (cumsum of the attention mask − 1); −1 for padding.</summary>
    static int[] RealTokenPositions(TokenBatch batch)
    {
        var positions = new int[batch.Batch * batch.Seq];
        for (int b = 0; b < batch.Batch; b++)
        {
            int seen = 0;
            for (int t = 0; t < batch.Seq; t++)
            {
                int i = b * batch.Seq + t;
                positions[i] = batch.AttentionMask[i] == 0 ? -1 : seen++;
            }
        }
        return positions;
    }

    /// <summary>OPT's project_out between the final hidden state and lm_head; null elsewhere.</summary>
    private protected virtual ILinear? ProjectOut => null;

    /// <summary>Per-sequence summed NLL of the labelled tokens under perturbation <paramref name="p"/>.</summary>
    public SequenceLosses Loss(TokenBatch batch, Perturbation p)
    {
        if (Pipeline is not null) return PipelineLoss(batch, p);
        var (a, hidden, context) = Forward(batch, p);
        return Score(batch, a, hidden, context);
    }

    /// <summary>The losses of <paramref name="batch"/> from its final hidden states.</summary>
    SequenceLosses Score(TokenBatch batch, ActivationBuffers a, DeviceTensor hidden, ForwardContext context)
    {
        var targets = batch.ShiftedTargets();
        var rows = Enumerable.Range(0, targets.Length).Where(r => targets[r] >= 0).ToArray();
        var nll = RowNll(a, hidden, context, rows, rows.Select(r => targets[r]).ToArray());
        var sums = new double[batch.Batch];
        var counts = new int[batch.Batch];
        for (int r = 0; r < rows.Length; r++)
        {
            int b = rows[r] / batch.Seq;
            sums[b] += nll[r];
            counts[b]++;
        }
        return new SequenceLosses(sums, counts);
    }

    /// <summary>
    /// −log p(targets[i] | the tokens of its row up to flat position positions[i] (b·Seq + t)), for each i: several
    /// next tokens of one position cost one forward pass (the candidate answers of a shared prompt). Positions may repeat.
    /// </summary>
    public float[] NextTokenNll(TokenBatch batch, IReadOnlyList<int> positions, IReadOnlyList<int> targets, Perturbation p)
    {
        if (positions.Count != targets.Count) throw new ArgumentException($"{positions.Count} positions for {targets.Count} targets");
        foreach (int target in targets)
            if ((uint)target >= (uint)Config.VocabSize) throw new ArgumentOutOfRangeException(nameof(targets),
                $"token {target} is outside the vocabulary of {Config.VocabSize}");
        if (Pipeline is not null)
            throw new InvalidOperationException("a pipeline rank scores through Loss: NextTokenNll needs the whole model");
        var (a, hidden, context) = Forward(batch, p);
        return RowNll(a, hidden, context, positions.ToArray(), targets.ToArray());
    }

    /// <summary>Cross-entropy of the final hidden state's <paramref name="rows"/> (flat positions) against their targets.</summary>
    float[] RowNll(ActivationBuffers a, DeviceTensor hidden, ForwardContext context, int[] rows, int[] targets)
    {
        var nll = new float[rows.Length];
        ProjectRows(a, hidden, context, rows, (start, count, logits) =>
        {
            Backend.Upload<int>(a.ChunkIds, targets.AsSpan(start, count));
            Backend.CrossEntropyRows(logits, a.ChunkIds, a.ChunkNll, count, Config.VocabSize);
            Backend.Download(a.ChunkNll, nll.AsSpan(start, count));
        });
        return nll;
    }

    /// <summary>The logits at the given flat positions (b·Seq + t), one row of vocab floats each.</summary>
    public float[][] Logits(TokenBatch batch, IReadOnlyList<int> positions, Perturbation p = default)
    {
        if (Pipeline is not null) return PipelineLogits(batch, positions, p);
        var (a, hidden, context) = Forward(batch, p);
        return Project(a, hidden, context, positions);
    }

    float[][] Project(ActivationBuffers a, DeviceTensor hidden, ForwardContext context, IReadOnlyList<int> positions)
    {
        var result = new float[positions.Count][];
        ProjectRows(a, hidden, context, positions.ToArray(), (start, count, logits) =>
        {
            for (int r = 0; r < count; r++)
            {
                result[start + r] = new float[Config.VocabSize];
                Backend.Download<float>(logits, result[start + r], (long)r * Config.VocabSize);
            }
        });
        return result;
    }

    (ActivationBuffers, DeviceTensor, ForwardContext) Forward(TokenBatch batch, Perturbation p)
    {
        var a = Buffers(batch.Batch * batch.Seq);
        var context = Context(p);
        Backend.Upload<int>(a.Ids, batch.Ids);
        Backend.Upload<int>(a.Mask, batch.AttentionMask);
        return (a, RunDecoder(new DecoderPass(batch.Batch, batch.Seq, WholeSequencePositions(batch), Cache: null), a, context), context);
    }

    /// <summary>Runs (project_out and) lm_head over the selected rows of the final hidden state, a chunk at a time.</summary>
    void ProjectRows(ActivationBuffers a, DeviceTensor hidden, ForwardContext context, int[] rows, Action<int, int, DeviceTensor> consume)
    {
        for (int start = 0; start < rows.Length; start += a.ChunkRows)
        {
            int count = Math.Min(a.ChunkRows, rows.Length - start);
            Backend.Upload<int>(a.ChunkIds, rows.AsSpan(start, count));
            Backend.EmbeddingGather(hidden, a.ChunkIds, a.ChunkHidden, count, Config.HiddenSize);
            var headInput = a.ChunkHidden;
            if (ProjectOut is { } projectOut)
            {
                projectOut.Forward(context, a.ChunkHidden, count, a.ChunkWords!);
                headInput = a.ChunkWords!;
            }
            LmHead!.Forward(context, headInput, count, a.ChunkLogits);
            consume(start, count, a.ChunkLogits);
        }
    }

    /// <summary>
    /// The weight scratch holds one dequantized or perturbed matrix at a time, so it is sized to the largest
    /// linear, or to an embedding table when that must be materialized (trained, or kept as an fp32 master).
    /// Sized at the first forward pass, once it is known what trains.
    /// </summary>
    ForwardContext Context(Perturbation p)
    {
        if (_weightScratch is null)
        {
            long weights = AllLinears.Select(l => (long)l.InFeatures * l.OutFeatures).Max();
            foreach (var table in Tables)
                if (table.TrainableIndex is not null || table.Values.DType != Backend.ComputeType) weights = Math.Max(weights,
                    table.Length);
            _weightScratch = Backend.Allocate(Backend.ComputeType, weights, MemoryCategory.Workspace);
            long vectors = Math.Max(Config.HiddenSize, AllLinears.Max(l => l.OutFeatures));
            _vectorScratch = Backend.Allocate(Backend.ComputeType, vectors, MemoryCategory.Workspace);
            _biasScratch = Backend.Allocate(Backend.ComputeType, vectors, MemoryCategory.Workspace);
        }
        return new ForwardContext(Backend, p, _weightScratch, _vectorScratch!, _biasScratch!);
    }

    ActivationBuffers Buffers(int rows)
    {
        if (_activations is not null && _activations.Rows >= rows) return _activations;
        _activations?.Dispose();
        // a part without lm_head never fills the logit chunk: one row of it is enough
        _activations = new ActivationBuffers(Backend, Shape, rows, Part.HoldsHead ? LogitChunkElements : Shape.Vocab);
        return _activations;
    }

    public virtual void Dispose()
    {
        _activations?.Dispose();
        foreach (var p in AllParameters) p.Dispose();
        foreach (var linear in AllLinears) linear.Dispose();
        _weightScratch?.Dispose(); _vectorScratch?.Dispose(); _biasScratch?.Dispose();
    }
}
