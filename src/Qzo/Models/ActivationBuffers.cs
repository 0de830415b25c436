using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// The widths of one forward pass's activations per token. <paramref name="WordWidth"/> is the width of the token
/// embeddings and of lm_head's input (OPT's word_embed_proj_dim; the hidden size elsewhere).
/// </summary>
sealed record ActivationShape(int Hidden, int QueryWidth, int KeyValueWidth, int MlpWidth, bool GatedMlp, int WordWidth, int Vocab);

/// <summary>
/// The activations of one forward pass, reused by every layer (nothing is kept for a backward pass),
/// plus the chunk buffers of the lm_head/loss stage, [chunk × vocab] at most <c>logitChunkElements</c>.
/// Buffers an architecture does not need (a SwiGLU's second input, word-width copies) are null.
/// </summary>
sealed class ActivationBuffers : IDisposable
{
    public ActivationBuffers(IBackend b, ActivationShape s, int rows, long logitChunkElements)
    {
        Rows = rows;
        var f = b.ComputeType;
        const MemoryCategory act = MemoryCategory.Activations;
        Ids = b.Allocate(DType.I32, rows, act);
        Mask = b.Allocate(DType.I32, rows, act);
        Positions = b.Allocate(DType.I32, rows, act);
        X = b.Allocate(f, (long)rows * s.Hidden, act);
        Normed = b.Allocate(f, (long)rows * s.Hidden, act);
        Q = b.Allocate(f, (long)rows * s.QueryWidth, act);
        K = b.Allocate(f, (long)rows * s.KeyValueWidth, act);
        V = b.Allocate(f, (long)rows * s.KeyValueWidth, act);
        Attention = b.Allocate(f, (long)rows * s.QueryWidth, act);
        Mlp = b.Allocate(f, (long)rows * s.MlpWidth, act);
        Up = s.GatedMlp ? b.Allocate(f, (long)rows * s.MlpWidth, act) : null;
        bool words = s.WordWidth != s.Hidden;
        Words = words ? b.Allocate(f, (long)rows * s.WordWidth, act) : null;
        ChunkRows = (int)Math.Clamp(logitChunkElements / s.Vocab, 1, rows);
        ChunkIds = b.Allocate(DType.I32, ChunkRows, act);
        ChunkHidden = b.Allocate(f, (long)ChunkRows * s.Hidden, act);
        ChunkWords = words ? b.Allocate(f, (long)ChunkRows * s.WordWidth, act) : null;
        ChunkLogits = b.Allocate(DType.F32, (long)ChunkRows * s.Vocab, act); // logits and the loss in fp32, as transformers computes them
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
    /// <summary>The MLP's inner activation: gate_proj's output (SwiGLU) or fc1's (OPT).</summary>
    public DeviceTensor Mlp { get; }
    /// <summary>up_proj's output (SwiGLU only).</summary>
    public DeviceTensor? Up { get; }
    /// <summary>Token embeddings before project_in (only where the word width differs from the hidden size).</summary>
    public DeviceTensor? Words { get; }
    public DeviceTensor ChunkIds { get; }
    public DeviceTensor ChunkHidden { get; }
    /// <summary>lm_head's input after project_out (only where the word width differs).</summary>
    public DeviceTensor? ChunkWords { get; }
    public DeviceTensor ChunkLogits { get; }
    public DeviceTensor ChunkNll { get; }

    public void Dispose()
    {
        foreach (var t in new[] { Ids, Mask, Positions, X, Normed, Q, K, V, Attention, Mlp, Up, Words, ChunkIds, ChunkHidden, ChunkWords,
            ChunkLogits, ChunkNll })
            t?.Dispose();
    }
}
