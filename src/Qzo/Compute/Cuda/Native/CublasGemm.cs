using System.Runtime.InteropServices;

namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// Row-major GEMMs on cuBLAS's column-major API, bf16 inputs with fp32 accumulation. A row-major [r, c]
/// matrix is a column-major [c, r] one, so C = A·Bᵀ becomes Cᶜ = op_T(Bᶜ)·Aᶜ and C = A·B becomes Cᶜ = Bᶜ·Aᶜ.
/// </summary>
sealed unsafe class CublasGemm : IDisposable
{
    readonly IntPtr _handle;
    readonly float* _scalars; // alpha, beta: host pointers must stay valid until the call returns

    public CublasGemm(IntPtr stream)
    {
        NativeLibraries.EnsureResolver();
        Cublas.Check(Cublas.cublasCreate_v2(out _handle), "cublasCreate");
        Cublas.Check(Cublas.cublasSetStream_v2(_handle, stream), "cublasSetStream");
        Cublas.cublasGetVersion_v2(_handle, out int version);
        Version = version;
        _scalars = (float*)NativeMemory.Alloc(3 * sizeof(float));
        _scalars[0] = 1f; _scalars[1] = 0f; _scalars[2] = 1f;
    }

    public int Version { get; }

    /// <summary>The handle, bound to the stream, for <see cref="CublasDense"/>.</summary>
    public IntPtr Handle => _handle;

    /// <param name="transposedB">b is [n, k] (a linear's weight) rather than [k, n].</param>
    public void Multiply(IntPtr a, IntPtr b, IntPtr c, bool outputF32, int m, int n, int k, bool transposedB, bool accumulate)
    {
        float* beta = accumulate ? _scalars + 2 : _scalars + 1;
        int cType = outputF32 ? Cublas.R32F : Cublas.R16BF;
        int status = transposedB
            ? Cublas.cublasGemmEx(_handle, Cublas.OpT, Cublas.OpN, n, m, k, _scalars, b, Cublas.R16BF, k, a, Cublas.R16BF, k, beta, c,
                cType, n, Cublas.Compute32F, Cublas.GemmDefault)
            : Cublas.cublasGemmEx(_handle, Cublas.OpN, Cublas.OpN, n, m, k, _scalars, b, Cublas.R16BF, n, a, Cublas.R16BF, k, beta, c,
                cType, n, Cublas.Compute32F, Cublas.GemmDefault);
        Cublas.Check(status, $"GemmEx [{m}×{k}]·[{k}×{n}]");
    }

    /// <summary>
    /// c[m, n] = a[m, k]·b[k, n] into fp32 (c contiguous), a bf16 and contiguous, b bf16 with rows <paramref name="ldb"/> apart
    /// (a band of im2col's columns, or of an image's planes). Reductions stay in fp32: cuBLAS's default lets a split-K
    /// product reduce its partial sums in lower precision.
    /// </summary>
    public void MultiplyBand(IntPtr a, IntPtr b, int ldb, IntPtr c, int m, int n, int k)
    {
        Cublas.Check(Cublas.cublasSetMathMode(_handle, Cublas.DisallowReducedPrecisionReduction), "cublasSetMathMode");
        try
        {
            Cublas.Check(Cublas.cublasGemmEx(_handle, Cublas.OpN, Cublas.OpN, n, m, k, _scalars, b, Cublas.R16BF, ldb, a, Cublas.R16BF,
                                             k, _scalars + 1, c, Cublas.R32F, n, Cublas.Compute32F, Cublas.GemmDefault),
                         $"GemmEx [{m}×{k}]·[{k}×{n}] (rows {ldb} apart) into fp32");
        }
        finally
        {
            Cublas.cublasSetMathMode(_handle, Cublas.DefaultMath);
        }
    }

    /// <summary>
    /// <paramref name="count"/> products at once as <see cref="Kernels.StridedProduct"/> describes them, bf16 inputs, fp32 sums
    /// rounded once to c's type; split-K reductions kept in fp32 as in MultiplyIntoRows. Row-major on the
    /// column-major API as <see cref="Multiply"/>: cᶜ[n, m] = op(bᶜ)·aᶜ. The batches' c matrices may interleave (the
    /// attention writes each head's rows into [queries, heads, headDim]) as long as no two share an element.
    /// </summary>
    public void MultiplyStridedBatched(IntPtr a, IntPtr b, IntPtr c, bool outputF32, Kernels.StridedProduct p, int count)
    {
        float alpha = p.Alpha, beta = 0f;
        Cublas.Check(Cublas.cublasSetMathMode(_handle, Cublas.DisallowReducedPrecisionReduction), "cublasSetMathMode");
        try
        {
            Cublas.Check(Cublas.cublasGemmStridedBatchedEx(_handle, p.TransposedB != 0 ? Cublas.OpT : Cublas.OpN, Cublas.OpN, p.N, p.M, p.K,
                                                           &alpha, b, Cublas.R16BF, p.Ldb, p.StrideB, a, Cublas.R16BF, p.Lda, p.StrideA,
                                                           &beta, c, outputF32 ? Cublas.R32F : Cublas.R16BF, p.Ldc, p.StrideC, count,
                                                           Cublas.Compute32F, Cublas.GemmDefault),
                         $"GemmStridedBatchedEx {count} × [{p.M}×{p.K}]·[{p.K}×{p.N}]");
        }
        finally
        {
            Cublas.cublasSetMathMode(_handle, Cublas.DefaultMath);
        }
    }

    public void Dispose()
    {
        Cublas.cublasDestroy_v2(_handle);
        NativeMemory.Free(_scalars);
    }
}
