using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// Rotary embedding, halves convention, in place: one thread per (row, head, pair). cos and sin come from
/// tables [position, headDim/2] the model computed once on the host (fp32 angle, as transformers does).
/// </summary>
static class RopeKernel
{
    public static void Run(Index1D index, ArrayView<ushort> x, ArrayView<int> positions, ArrayView<float> cos, ArrayView<float> sin,
                           int heads, int headDim)
    {
        int half = headDim / 2;
        int pair = index % half;
        int rowHead = index / half;
        int row = rowHead / heads;
        long baseIndex = (long)rowHead * headDim;
        long table = (long)positions[row] * half + pair;
        float c = cos[table], s = sin[table];
        float a = Bf16.ToFloat(x[baseIndex + pair]), b = Bf16.ToFloat(x[baseIndex + pair + half]);
        x[baseIndex + pair] = Bf16.FromFloat(a * c - b * s);
        x[baseIndex + pair + half] = Bf16.FromFloat(b * c + a * s);
    }

    /// <summary>
    /// <see cref="Run"/> for two adjacent rotation pairs per thread (headDim a multiple of 4): 32-bit bf16-pair
    /// accesses on both halves.
    /// </summary>
    public static void Pairs(Index1D index, ArrayView<uint> x, ArrayView<int> positions, ArrayView<float> cos, ArrayView<float> sin,
                             int heads, int headDim)
    {
        int half = headDim / 2, quarter = headDim / 4;
        int pairPair = index % quarter, pair = 2 * pairPair;
        int rowHead = index / quarter;
        int row = rowHead / heads;
        long first = ((long)rowHead * headDim + pair) >> 1, second = first + (half >> 1);
        long table = (long)positions[row] * half + pair;
        float c0 = cos[table], s0 = sin[table], c1 = cos[table + 1], s1 = sin[table + 1];
        uint a = x[first], b = x[second];
        float a0 = Bf16.Low(a), a1 = Bf16.High(a), b0 = Bf16.Low(b), b1 = Bf16.High(b);
        x[first] = Bf16.Pack(a0 * c0 - b0 * s0, a1 * c1 - b1 * s1);
        x[second] = Bf16.Pack(b0 * c0 + a0 * s0, b1 * c1 + a1 * s1);
    }

}
