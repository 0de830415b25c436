using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// The activations of one forward pass, reused by every layer (nothing is kept for a backward pass),
/// plus the chunk buffers of the lm_head/loss stage, [chunk × vocab] at most <c>logitChunkElements</c>.
/// </summary>
sealed class ActivationBuffers : IDisposable
{
    public ActivationBuffers(IBackend b, LlamaConfig c, int rows, long logitChunkElements)
    {
        Rows = rows;
        var f = b.ComputeType;
        const MemoryCategory act = MemoryCategory.Activations;
        Ids = b.Allocate(DType.I32, rows, act);
        Mask = b.Allocate(DType.I32, rows, act);
        Positions = b.Allocate(DType.I32, rows, act);
        X = b.Allocate(f, (long)rows * c.HiddenSize, act);
        Normed = b.Allocate(f, (long)rows * c.HiddenSize, act);
        Q = b.Allocate(f, (long)rows * c.Heads * c.HeadDim, act);
        K = b.Allocate(f, (long)rows * c.KvHeads * c.HeadDim, act);
        V = b.Allocate(f, (long)rows * c.KvHeads * c.HeadDim, act);
        Attention = b.Allocate(f, (long)rows * c.Heads * c.HeadDim, act);
        Gate = b.Allocate(f, (long)rows * c.IntermediateSize, act);
        Up = b.Allocate(f, (long)rows * c.IntermediateSize, act);
        ChunkRows = (int)Math.Clamp(logitChunkElements / c.VocabSize, 1, rows);
        ChunkIds = b.Allocate(DType.I32, ChunkRows, act);
        ChunkHidden = b.Allocate(f, (long)ChunkRows * c.HiddenSize, act);
        ChunkLogits = b.Allocate(DType.F32, (long)ChunkRows * c.VocabSize, act); // logits and the loss in fp32, as transformers computes them
        ChunkNll = b.Allocate(DType.F32, ChunkRows, act);
    }

    public int Rows { get; }
    public int ChunkRows { get; }
    public DeviceTensor Ids { get; }
    public DeviceTensor Mask { get; }
    public DeviceTensor Positions { get; }
    public DeviceTensor X { get; }
    public DeviceTensor Normed { get; }
    public DeviceTensor Q { get; }
    public DeviceTensor K { get; }
    public DeviceTensor V { get; }
    public DeviceTensor Attention { get; }
    public DeviceTensor Gate { get; }
    public DeviceTensor Up { get; }
    public DeviceTensor ChunkIds { get; }
    public DeviceTensor ChunkHidden { get; }
    public DeviceTensor ChunkLogits { get; }
    public DeviceTensor ChunkNll { get; }

    public void Dispose()
    {
        foreach (var t in new[] { Ids, Mask, Positions, X, Normed, Q, K, V, Attention, Gate, Up, ChunkIds, ChunkHidden, ChunkLogits, ChunkNll })
            t.Dispose();
    }
}
