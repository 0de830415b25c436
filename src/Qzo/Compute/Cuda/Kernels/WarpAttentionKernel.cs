using System.Runtime.CompilerServices;
using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// Causal GQA attention for head_dim ≤ 128 with an online softmax; scores never reach global memory.
/// A group of W warps (8 on a GPU) takes W·<see cref="QueriesPerWarp"/>·<see cref="Steps"/> queries of one
/// (batch, head). Each warp carries <see cref="QueriesPerWarp"/> queries at once, its 32 lanes splitting the head
/// dimension (4 values per lane), with every query's state in registers (value structs, no arrays). The group
/// streams K/V tiles through shared memory, so each tile load serves W·4 queries and each shared read 4.
/// Visibility as in <see cref="AttentionKernel.Visible"/> (causal, padding, sliding window).
/// </summary>
static class WarpAttentionKernel
{
    public const int QueriesPerWarp = 4, Steps = 2, MaxKeyTile = 64, MaxHeadDim = 128;

    public static int QueryTile(int warps) => warps * QueriesPerWarp * Steps;

    struct Query
    {
        public float Q0, Q1, Q2, Q3, A0, A1, A2, A3, Max, Sum;
        public int Index;
    }

    public static void WarpAttention(ArrayView<ushort> q, ArrayView<ushort> k, ArrayView<ushort> v, ArrayView<int> keyMask,
                           ArrayView<ushort> output, AttentionKernel.Shape s, int keyTile)
    {
        var keys = SharedMemory.Allocate<uint>(MaxKeyTile * MaxHeadDim / 2);   // bf16 pairs
        var values = SharedMemory.Allocate<uint>(MaxKeyTile * MaxHeadDim / 2);

        int warps = Group.DimX / Warp.WarpSize, queryTile = QueryTile(warps);
        int tiles = (s.Seq + queryTile - 1) / queryTile;
        int bh = Grid.IdxX / tiles, tile = Grid.IdxX - bh * tiles;
        int b = bh / s.Heads, h = bh - b * s.Heads;
        int kvh = h / (s.Heads / s.KvHeads);
        int hd = s.HeadDim, pairs = hd / 2, lane = Warp.LaneIdx, warp = Warp.WarpIdx;
        var kPairs = k.Cast<uint>(); var vPairs = v.Cast<uint>();

        for (int step = 0; step < Steps; step++)
        {
            int stepStart = tile * queryTile + step * warps * QueriesPerWarp;
            if (stepStart >= s.Seq) break;                                   // uniform across the group
            int first = stepStart + warp * QueriesPerWarp;
            var s0 = Load(q, s, b, h, first, lane); var s1 = Load(q, s, b, h, first + 1, lane);
            var s2 = Load(q, s, b, h, first + 2, lane); var s3 = Load(q, s, b, h, first + 3, lane);
            int warpLast = Math.Min(first + QueriesPerWarp, s.Seq) - 1;      // may be < first: an idle warp
            int groupLast = Math.Min(stepStart + warps * QueriesPerWarp, s.Seq) - 1;

            for (int keyStart = AttentionKernel.FirstVisibleKey(stepStart, s.Window); keyStart <= groupLast; keyStart += keyTile)
            {
                Group.Barrier();                                              // the previous tile is no longer read
                int row = Group.IdxX / pairs, pair = Group.IdxX - row * pairs;
                int rowStep = Group.DimX / pairs, pairStep = Group.DimX - rowStep * pairs;
                for (int e = Group.IdxX; e < keyTile * pairs; e += Group.DimX)
                {
                    int j = keyStart + row;
                    long source = ((long)(b * s.Seq + j) * s.KvHeads + kvh) * pairs + pair;
                    keys[row * (MaxHeadDim / 2) + pair] = j < s.Seq ? kPairs[source] : 0u;
                    values[row * (MaxHeadDim / 2) + pair] = j < s.Seq ? vPairs[source] : 0u;
                    row += rowStep; pair += pairStep;
                    if (pair >= pairs) { pair -= pairs; row++; }
                }
                Group.Barrier();
                int rows = Math.Min(keyTile, warpLast - keyStart + 1);
                for (int r = 0; r < rows; r++)
                {
                    int j = keyStart + r;
                    if (keyMask[b * s.Seq + j] == 0) continue;
                    int offset = r * MaxHeadDim;
                    float k0 = Shared(keys, offset, lane, hd), k1 = Shared(keys, offset, lane + 32, hd);
                    float k2 = Shared(keys, offset, lane + 64, hd), k3 = Shared(keys, offset, lane + 96, hd);
                    float v0 = Shared(values, offset, lane, hd), v1 = Shared(values, offset, lane + 32, hd);
                    float v2 = Shared(values, offset, lane + 64, hd), v3 = Shared(values, offset, lane + 96, hd);
                    // Four independent reductions, interleaved so their shuffle latencies overlap; a key a query may not
                    // see gets score −∞, which leaves its state unchanged.
                    float d0 = s0.Q0 * k0 + s0.Q1 * k1 + s0.Q2 * k2 + s0.Q3 * k3;
                    float d1 = s1.Q0 * k0 + s1.Q1 * k1 + s1.Q2 * k2 + s1.Q3 * k3;
                    float d2 = s2.Q0 * k0 + s2.Q1 * k1 + s2.Q2 * k2 + s2.Q3 * k3;
                    float d3 = s3.Q0 * k0 + s3.Q1 * k1 + s3.Q2 * k2 + s3.Q3 * k3;
                    for (int lanes = Warp.WarpSize / 2; lanes > 0; lanes /= 2)
                    {
                        d0 += Warp.ShuffleXor(d0, lanes); d1 += Warp.ShuffleXor(d1, lanes);
                        d2 += Warp.ShuffleXor(d2, lanes); d3 += Warp.ShuffleXor(d3, lanes);
                    }
                    s0 = Update(s0, AttentionKernel.Visible(s0.Index, j, s.Window) ? d0 : float.NegativeInfinity, v0, v1, v2, v3);
                    s1 = Update(s1, AttentionKernel.Visible(s1.Index, j, s.Window) ? d1 : float.NegativeInfinity, v0, v1, v2, v3);
                    s2 = Update(s2, AttentionKernel.Visible(s2.Index, j, s.Window) ? d2 : float.NegativeInfinity, v0, v1, v2, v3);
                    s3 = Update(s3, AttentionKernel.Visible(s3.Index, j, s.Window) ? d3 : float.NegativeInfinity, v0, v1, v2, v3);
                }
            }
            Store(output, s, b, h, s0, lane); Store(output, s, b, h, s1, lane);
            Store(output, s, b, h, s2, lane); Store(output, s, b, h, s3, lane);
        }
    }

    /// <summary>A query's scaled values in this lane's 4 dimensions; Index −1 marks a query past the sequence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Query Load(ArrayView<ushort> q, AttentionKernel.Shape s, int b, int h, int i, int lane)
    {
        var state = new Query { Max = float.NegativeInfinity, Index = i < s.Seq ? i : -1 };
        if (i >= s.Seq) return state;
        long start = ((long)(b * s.Seq + i) * s.Heads + h) * s.HeadDim;
        state.Q0 = Element(q, start, lane, s.HeadDim) * s.Scale;
        state.Q1 = Element(q, start, lane + 32, s.HeadDim) * s.Scale;
        state.Q2 = Element(q, start, lane + 64, s.HeadDim) * s.Scale;
        state.Q3 = Element(q, start, lane + 96, s.HeadDim) * s.Scale;
        return state;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Query Update(Query st, float score, float v0, float v1, float v2, float v3)
    {
        float newMax = MathF.Max(st.Max, score);
        float correction = newMax == st.Max ? 1f : KernelMath.Exp(st.Max - newMax); // also avoids −∞ − −∞
        float p = score == float.NegativeInfinity ? 0f : KernelMath.Exp(score - newMax);
        st.Sum = st.Sum * correction + p;
        st.A0 = st.A0 * correction + p * v0;
        st.A1 = st.A1 * correction + p * v1;
        st.A2 = st.A2 * correction + p * v2;
        st.A3 = st.A3 * correction + p * v3;
        st.Max = newMax;
        return st;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(ArrayView<ushort> output, AttentionKernel.Shape s, int b, int h, Query st, int lane)
    {
        if (st.Index < 0) return;
        float inverse = st.Sum > 0f ? 1.0f / st.Sum : 0f;   // no visible key (padding): output 0
        long start = ((long)(b * s.Seq + st.Index) * s.Heads + h) * s.HeadDim;
        if (lane < s.HeadDim) output[start + lane] = Bf16.FromFloat(st.A0 * inverse);
        if (lane + 32 < s.HeadDim) output[start + lane + 32] = Bf16.FromFloat(st.A1 * inverse);
        if (lane + 64 < s.HeadDim) output[start + lane + 64] = Bf16.FromFloat(st.A2 * inverse);
        if (lane + 96 < s.HeadDim) output[start + lane + 96] = Bf16.FromFloat(st.A3 * inverse);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Element(ArrayView<ushort> x, long start, int d, int hd) => d < hd ? Bf16.ToFloat(x[start + d]) : 0f;

    /// <summary>Dimension d of a shared row of bf16 pairs (row offset in bf16 elements).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Shared(ArrayView<uint> tile, int rowOffset, int d, int hd)
    {
        if (d >= hd) return 0f;
        uint pair = tile[(rowOffset + d) >> 1];
        return Bf16.ToFloat((ushort)((d & 1) == 0 ? pair & 0xFFFF : pair >> 16));
    }
}
