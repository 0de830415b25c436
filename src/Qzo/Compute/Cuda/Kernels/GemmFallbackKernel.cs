using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// A plain GEMM for ILGPU's CPU accelerator, where cuBLAS does not exist (tests only): c[r, col] = Σ a[r, k]·b,
/// b indexed [col, k] (transposed) or [k, col]; bf16 in, fp32 accumulation, bf16 or fp32 out.
/// </summary>
static class GemmFallbackKernel
{
    public readonly record struct Shape(int M, int N, int K, int TransposedB, int Accumulate);

    public static void ToBf16(Index1D index, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c, Shape s)
    {
        float sum = Dot(index, a, b, s);
        c[index] = Bf16.FromFloat(s.Accumulate != 0 ? sum + Bf16.ToFloat(c[index]) : sum);
    }

    public static void ToF32(Index1D index, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<float> c, Shape s)
    {
        float sum = Dot(index, a, b, s);
        c[index] = s.Accumulate != 0 ? sum + c[index] : sum;
    }

    static float Dot(int index, ArrayView<ushort> a, ArrayView<ushort> b, Shape s)
    {
        int row = index / s.N, column = index - row * s.N;
        float sum = 0f;
        for (int k = 0; k < s.K; k++)
        {
            long bIndex = s.TransposedB != 0 ? (long)column * s.K + k : (long)k * s.N + column;
            sum += Bf16.ToFloat(a[(long)row * s.K + k]) * Bf16.ToFloat(b[bIndex]);
        }
        return sum;
    }
}
