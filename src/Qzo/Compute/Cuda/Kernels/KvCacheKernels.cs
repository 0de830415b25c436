using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// The KV cache of generation: writing a pass's keys and values into it, and attention of the pass's queries over it
/// (visibility as in <see cref="AttentionKernel.Visible"/>, by cache slot). Attention takes one group per query
/// (batch, head, new token), at least as many threads as head_dim: each thread scores keys of a
/// <see cref="KeyTile"/>-key tile against the query (held in shared memory), the group reduces the tile's max and
/// sum (online softmax), and thread d accumulates output dimension d over the tile's weights.
/// </summary>
static class KvCacheKernels
{
    public const int KeyTile = 128;
    public const int MaxHeadDim = 256;

    /// <param name="Window">the sliding window (0 = none).</param>
    public readonly record struct Shape(int NewTokens, int CacheLength, int MaxLength, int Heads, int KvHeads, int HeadDim, float Scale,
        int Window);

    /// <summary>Threads per attention group: a multiple of the warp size, at least head_dim and <paramref name="minimum"/>.</summary>
    public static int GroupSize(int headDim, int minimum) => Math.Max(minimum, (headDim + 31) / 32 * 32);

    public static void Append(Index1D index, ArrayView<ushort> rows, ArrayView<ushort> cache, int count, int start, int maxLength,
        int width)
    {
        int row = index / width, column = index - row * width;
        int b = row / count, t = row - b * count;
        cache[((long)b * maxLength + start + t) * width + column] = rows[index];
    }

    public static void Attention(ArrayView<ushort> q, ArrayView<ushort> keys, ArrayView<ushort> values, ArrayView<int> keyMask,
                                 ArrayView<ushort> output, Shape s)
    {
        var query = SharedMemory.Allocate<float>(MaxHeadDim);
        var weights = SharedMemory.Allocate<float>(KeyTile);
        var scratch = SharedMemory.Allocate<float>(33);

        int bh = Grid.IdxX / s.NewTokens, t = Grid.IdxX - bh * s.NewTokens;
        int b = bh / s.Heads, h = bh - b * s.Heads;
        int kvh = h / (s.Heads / s.KvHeads), hd = s.HeadDim, tid = Group.IdxX;
        int i = s.CacheLength - s.NewTokens + t;
        long qBase = ((long)(b * s.NewTokens + t) * s.Heads + h) * hd, row0 = (long)b * s.MaxLength;
        for (int d = tid; d < hd; d += Group.DimX) query[d] = Bf16.ToFloat(q[qBase + d]) * s.Scale;
        Group.Barrier();

        float runningMax = float.NegativeInfinity, runningSum = 0f, accumulator = 0f;
        for (int tile = AttentionKernel.FirstVisibleKey(i, s.Window); tile <= i; tile += KeyTile)
        {
            float localMax = float.NegativeInfinity;
            for (int r = tid; r < KeyTile; r += Group.DimX)
            {
                int j = tile + r;
                float score = float.NegativeInfinity;
                if (j <= i && keyMask[row0 + j] != 0)
                {
                    long key = ((row0 + j) * s.KvHeads + kvh) * hd;
                    score = 0f;
                    for (int d = 0; d < hd; d++) score += query[d] * Bf16.ToFloat(keys[key + d]);
                }
                weights[r] = score;
                localMax = MathF.Max(localMax, score);
            }
            float tileMax = GroupReduce.Max(localMax, scratch);
            if (tileMax == float.NegativeInfinity) continue; // nothing visible in this tile (the same answer in every thread)
            float newMax = MathF.Max(runningMax, tileMax);
            float correction = newMax == runningMax ? 1f : KernelMath.Exp(runningMax - newMax);
            float localSum = 0f;
            for (int r = tid; r < KeyTile; r += Group.DimX)
            {
                float w = weights[r] == float.NegativeInfinity ? 0f : KernelMath.Exp(weights[r] - newMax);
                weights[r] = w;
                localSum += w;
            }
            runningSum = runningSum * correction + GroupReduce.Sum(localSum, scratch); // its barriers publish the weights
            if (tid < hd)
            {
                accumulator *= correction;
                int rows = Math.Min(KeyTile, i - tile + 1);
                for (int r = 0; r < rows; r++)
                {
                    float w = weights[r];
                    if (w != 0f) accumulator += w * Bf16.ToFloat(values[((row0 + tile + r) * s.KvHeads + kvh) * hd + tid]);
                }
            }
            runningMax = newMax;
            Group.Barrier(); // every thread has read the weights before the next tile overwrites them
        }
        if (tid < hd) output[qBase + tid] = Bf16.FromFloat(runningSum > 0f ? accumulator / runningSum : 0f); // no visible key: 0
    }
}
