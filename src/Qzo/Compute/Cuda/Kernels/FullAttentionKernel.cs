using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// Full (non-causal) attention for head_dim up to 512 with an online softmax, so no [queries × keys] matrix exists: the
/// image models' joint attention, the VAE's single-head mid-block attention over every pixel, and the text encoders
/// (T5 with its additive position bias). One group takes Group.DimX queries of one (batch, head); each thread owns a
/// query, its scaled query and output accumulator in fp32. The group streams tiles of keys and values through shared
/// memory (as many rows as <see cref="SharedValues"/> holds at this head_dim, at most <see cref="MaxKeyTile"/>); per tile
/// each thread takes its scores, then rescales its accumulator once for the tile's maximum.
/// </summary>
static class FullAttentionKernel
{
    public const int MaxHeadDim = 512, MaxKeyTile = 64, SharedValues = 8192;

    /// <param name="Scale">multiplies q·k (1/√headDim already resolved).</param>
    /// <param name="HasBias">1: add bias[h, i, j] (F32 [heads, queries, keys]) to the scaled score.</param>
    public readonly record struct Shape(int Batch, int Queries, int Keys, int Heads, int HeadDim, float Scale, int HasBias, int KeyTile);

    /// <summary>Key rows per tile at this head_dim.</summary>
    public static int KeyTile(int headDim) => Math.Min(MaxKeyTile, SharedValues / headDim);

    public static void Run(ArrayView<ushort> q, ArrayView<ushort> k, ArrayView<ushort> v, ArrayView<float> bias, ArrayView<ushort> output,
                           Shape s)
    {
        var keys = SharedMemory.Allocate<ushort>(SharedValues);
        var values = SharedMemory.Allocate<ushort>(SharedValues);
        var query = LocalMemory.Allocate<float>(MaxHeadDim);
        var accumulator = LocalMemory.Allocate<float>(MaxHeadDim);
        var scores = LocalMemory.Allocate<float>(MaxKeyTile);

        int tiles = (s.Queries + Group.DimX - 1) / Group.DimX;
        int bh = Grid.IdxX / tiles, tile = Grid.IdxX - bh * tiles;
        int b = bh / s.Heads, h = bh - b * s.Heads, hd = s.HeadDim;
        int i = tile * Group.DimX + Group.IdxX;
        bool active = i < s.Queries;
        long qBase = ((long)(b * s.Queries + i) * s.Heads + h) * hd;
        for (int d = 0; d < hd; d++)
        {
            query[d] = active ? Bf16.ToFloat(q[qBase + d]) * s.Scale : 0f;
            accumulator[d] = 0f;
        }
        long biasRow = ((long)h * s.Queries + i) * s.Keys;
        float runningMax = float.NegativeInfinity, runningSum = 0f;

        for (int keyStart = 0; keyStart < s.Keys; keyStart += s.KeyTile)
        {
            int rows = Math.Min(s.KeyTile, s.Keys - keyStart);
            for (int e = Group.IdxX; e < rows * hd; e += Group.DimX)
            {
                int row = e / hd, d = e - row * hd;
                long source = ((long)(b * s.Keys + keyStart + row) * s.Heads + h) * hd + d;
                keys[e] = k[source];
                values[e] = v[source];
            }
            Group.Barrier();
            if (active)
            {
                float tileMax = float.NegativeInfinity;
                for (int row = 0; row < rows; row++)
                {
                    float score = 0f;
                    for (int d = 0; d < hd; d++) score += query[d] * Bf16.ToFloat(keys[row * hd + d]);
                    if (s.HasBias != 0) score += bias[biasRow + keyStart + row];
                    scores[row] = score;
                    tileMax = MathF.Max(tileMax, score);
                }
                float newMax = MathF.Max(runningMax, tileMax);
                if (newMax == float.NegativeInfinity) rows = 0; // every key so far masked by a −∞ bias: nothing to add
                float correction = rows == 0 ? 1f : KernelMath.Exp(runningMax - newMax); // 0 on the first tile (−∞)
                runningSum *= correction;
                for (int d = 0; d < hd; d++) accumulator[d] *= correction;
                for (int row = 0; row < rows; row++)
                {
                    float p = KernelMath.Exp(scores[row] - newMax);
                    runningSum += p;
                    for (int d = 0; d < hd; d++) accumulator[d] += p * Bf16.ToFloat(values[row * hd + d]);
                }
                runningMax = newMax;
            }
            Group.Barrier();
        }
        if (!active) return;
        float inverse = runningSum > 0f ? 1.0f / runningSum : 0f; // a query whose every key is masked outputs zeros
        for (int d = 0; d < hd; d++) output[qBase + d] = Bf16.FromFloat(accumulator[d] * inverse);
    }
}
