using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// count row-major products c[m, n] = alpha·a[m, k]·b, batch i reading a + i·StrideA and b + i·StrideB and writing
/// c + i·StrideC (elements); b is [n, k] when TransposedB is 1, else [k, n]; rows Lda, Ldb, Ldc elements apart.
/// </summary>
readonly record struct StridedProduct(int M, int N, int K, int Lda, long StrideA, int Ldb, long StrideB, int TransposedB, int Ldc,
                                             long StrideC, float Alpha);

/// <summary>
/// The kernels of the GEMM attention (CudaBackend.FullAttention, for head_dim above 128): the row softmax between the two
/// products, and for ILGPU's CPU accelerator, where cuBLAS does not exist (tests only), the strided batched product.
/// </summary>
static class AttentionGemmKernels
{
    /// <param name="Keys">a row's length</param>
    /// <param name="ChunkQueries">rows per head in the score buffer (the chunk's queries)</param>
    /// <param name="FirstQuery">the chunk's first query, for the bias rows</param>
    /// <param name="Queries">all queries, for the bias rows</param>
    /// <param name="HasBias">1: add bias[h, query, key] (F32 [heads, queries, keys]) to the score</param>
    public readonly record struct SoftmaxRows(int Keys, int ChunkQueries, int FirstQuery, int Queries, int HasBias);

    /// <summary>
    /// One group per row (head h, chunk query i) of the fp32 scores [heads, ChunkQueries, Keys]: adds the bias, then
    /// probabilities = exp(s − max) / Σ exp(s − max) in fp32, rounded to bf16 once. A row whose scores are all −∞ (a
    /// masking bias) gets zeros, so its output is 0.
    /// </summary>
    public static void Softmax(ArrayView<float> scores, ArrayView<float> bias, ArrayView<ushort> probabilities, SoftmaxRows s)
    {
        var scratch = SharedMemory.Allocate<float>(33);
        int row = Grid.IdxX, h = row / s.ChunkQueries, i = row - h * s.ChunkQueries;
        long start = (long)row * s.Keys, biasStart = ((long)h * s.Queries + s.FirstQuery + i) * s.Keys;
        float max = float.NegativeInfinity;
        for (int j = Group.IdxX; j < s.Keys; j += Group.DimX)
        {
            float score = scores[start + j];
            if (s.HasBias != 0)
            {
                score += bias[biasStart + j];
                scores[start + j] = score;
            }
            max = MathF.Max(max, score);
        }
        max = GroupReduce.Max(max, scratch);
        if (max == float.NegativeInfinity)
        {
            for (int j = Group.IdxX; j < s.Keys; j += Group.DimX) probabilities[start + j] = 0;
            return;
        }
        float sum = 0f;
        for (int j = Group.IdxX; j < s.Keys; j += Group.DimX) sum += KernelMath.Exp(scores[start + j] - max);
        float inverse = 1.0f / GroupReduce.Sum(sum, scratch);
        for (int j = Group.IdxX; j < s.Keys; j += Group.DimX)
            probabilities[start + j] = Bf16.FromFloat(KernelMath.Exp(scores[start + j] - max) * inverse);
    }

    /// <summary>One thread per element of c over all batches; fp32 sums (tests only).</summary>
    public static void ProductToF32(Index1D index, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<float> c, StridedProduct p) =>
        c[Position(index, p)] = Dot(index, a, b, p);

    /// <summary>As <see cref="ProductToF32"/>, rounded to bf16 once.</summary>
    public static void ProductToBf16(Index1D index, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c, StridedProduct p) =>
        c[Position(index, p)] = Bf16.FromFloat(Dot(index, a, b, p));

    static long Position(int index, StridedProduct p)
    {
        int perBatch = p.M * p.N, batch = index / perBatch, rest = index - batch * perBatch, row = rest / p.N;
        return batch * p.StrideC + (long)row * p.Ldc + (rest - row * p.N);
    }

    static float Dot(int index, ArrayView<ushort> a, ArrayView<ushort> b, StridedProduct p)
    {
        int perBatch = p.M * p.N, batch = index / perBatch, rest = index - batch * perBatch, row = rest / p.N, column = rest - row * p.N;
        long aRow = batch * p.StrideA + (long)row * p.Lda, bBase = batch * p.StrideB;
        float sum = 0f;
        for (int k = 0; k < p.K; k++)
        {
            long bIndex = p.TransposedB != 0 ? bBase + (long)column * p.Ldb + k : bBase + (long)k * p.Ldb + column;
            sum += Bf16.ToFloat(a[aRow + k]) * Bf16.ToFloat(b[bIndex]);
        }
        return p.Alpha * sum;
    }
}
