using System.Runtime.CompilerServices;
using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// Causal GQA attention with an online softmax for any head_dim up to 256 (the fallback of <see cref="WarpAttentionKernel"/>,
/// which serves head_dim ≤ 128): scores never reach global memory.
/// One group handles <see cref="QueryTile"/> queries of one (batch, head); each thread owns one query row,
/// keeps its scaled query and output accumulator in fp32, and the group streams K/V tiles of
/// <see cref="KeyTile"/> rows through shared memory. Query i sees key j iff j ≤ i, keyMask[b, j] = 1 and, with a
/// sliding window W &gt; 0, i − j &lt; W; the group then starts at the first tile any of its queries can see.
/// </summary>
static class AttentionKernel
{
    public const int QueryTile = 64;
    public const int KeyTile = 32;
    public const int MaxHeadDim = 256;

    /// <param name="Window">the sliding window (0 = none).</param>
    public readonly record struct Shape(int Batch, int Seq, int Heads, int KvHeads, int HeadDim, float Scale, int Window);

    /// <summary>Whether query i sees key j, padding aside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Visible(int i, int j, int window) => j <= i && (window == 0 || i - j < window);

    /// <summary>The first key any query from <paramref name="firstQuery"/> on can see.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FirstVisibleKey(int firstQuery, int window) => window == 0 ? 0 : Math.Max(0, firstQuery - window + 1);

    public static void Run(ArrayView<ushort> q, ArrayView<ushort> k, ArrayView<ushort> v, ArrayView<int> keyMask,
                           ArrayView<ushort> output, Shape s)
    {
        var keys = SharedMemory.Allocate<ushort>(KeyTile * MaxHeadDim);
        var values = SharedMemory.Allocate<ushort>(KeyTile * MaxHeadDim);
        var query = LocalMemory.Allocate<float>(MaxHeadDim);
        var accumulator = LocalMemory.Allocate<float>(MaxHeadDim);

        int tiles = (s.Seq + QueryTile - 1) / QueryTile;
        int bh = Grid.IdxX / tiles, tile = Grid.IdxX - bh * tiles;
        int b = bh / s.Heads, h = bh - b * s.Heads;
        int kvh = h / (s.Heads / s.KvHeads);
        int hd = s.HeadDim;
        int i = tile * QueryTile + Group.IdxX;
        bool active = i < s.Seq;

        long qBase = ((long)(b * s.Seq + i) * s.Heads + h) * hd;
        for (int d = 0; d < hd; d++)
        {
            query[d] = active ? Bf16.ToFloat(q[qBase + d]) * s.Scale : 0f;
            accumulator[d] = 0f;
        }
        float runningMax = float.NegativeInfinity, runningSum = 0f;

        int lastQuery = Math.Min(tile * QueryTile + QueryTile, s.Seq) - 1;
        for (int keyStart = FirstVisibleKey(tile * QueryTile, s.Window); keyStart <= lastQuery; keyStart += KeyTile)
        {
            for (int e = Group.IdxX; e < KeyTile * hd; e += Group.DimX)
            {
                int row = e / hd, d = e - row * hd, j = keyStart + row;
                long kvIndex = ((long)(b * s.Seq + j) * s.KvHeads + kvh) * hd + d;
                keys[row * MaxHeadDim + d] = j < s.Seq ? k[kvIndex] : (ushort)0;
                values[row * MaxHeadDim + d] = j < s.Seq ? v[kvIndex] : (ushort)0;
            }
            Group.Barrier();
            if (active)
            {
                for (int row = 0; row < KeyTile; row++)
                {
                    int j = keyStart + row;
                    if (!Visible(i, j, s.Window) || keyMask[b * s.Seq + j] == 0) continue;
                    float score = 0f;
                    for (int d = 0; d < hd; d++) score += query[d] * Bf16.ToFloat(keys[row * MaxHeadDim + d]);
                    float newMax = MathF.Max(runningMax, score);
                    float correction = KernelMath.Exp(runningMax - newMax);
                    float p = KernelMath.Exp(score - newMax);
                    runningSum = runningSum * correction + p;
                    for (int d = 0; d < hd; d++)
                        accumulator[d] = accumulator[d] * correction + p * Bf16.ToFloat(values[row * MaxHeadDim + d]);
                    runningMax = newMax;
                }
            }
            Group.Barrier();
        }
        if (!active) return;
        float inverse = runningSum > 0f ? 1.0f / runningSum : 0f; // a query with no visible key (padding) outputs 0
        for (int d = 0; d < hd; d++) output[qBase + d] = Bf16.FromFloat(accumulator[d] * inverse);
    }
}
