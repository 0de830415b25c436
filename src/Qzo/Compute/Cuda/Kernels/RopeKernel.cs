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
}
