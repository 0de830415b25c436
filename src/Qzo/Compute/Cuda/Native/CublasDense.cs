namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// The float32 and float64 cuBLAS calls of GPTQ on the GPU, row-major on cuBLAS's column-major API (a row-major [r, c]
/// matrix with row stride ld is a column-major [c, r] one with leading dimension ld). float32 products use
/// CUBLAS_COMPUTE_32F: true fp32, no TF32.
/// </summary>
sealed unsafe class CublasDense(CublasGemm owner)
{
    readonly IntPtr _handle = owner.Handle;

    /// <summary>sum[n, n] += xᵀ·x, x F32 [rows, n]: column-major, sum = x·xᵀ over x's [n, rows] view.</summary>
    public void Gram(IntPtr x, int rows, int n, IntPtr sum)
    {
        float one = 1f;
        Cublas.Check(Cublas.cublasGemmEx(_handle, Cublas.OpN, Cublas.OpT, n, n, rows, &one, x, Cublas.R32F, n, x, Cublas.R32F, n,
                                         &one, sum, Cublas.R32F, n, Cublas.Compute32F, Cublas.GemmDefault),
                                         $"GemmEx fp32 Gram [{rows}×{n}]");
    }

    /// <summary>c[m, n] = a[m, k]·b[k, n], F32, contiguous.</summary>
    public void MultiplyF32(IntPtr a, IntPtr b, IntPtr c, int m, int n, int k)
    {
        float one = 1f, zero = 0f;
        Cublas.Check(Cublas.cublasGemmEx(_handle, Cublas.OpN, Cublas.OpN, n, m, k, &one, b, Cublas.R32F, n, a, Cublas.R32F, k,
                                         &zero, c, Cublas.R32F, n, Cublas.Compute32F, Cublas.GemmDefault),
                                         $"GemmEx fp32 [{m}×{k}]·[{k}×{n}]");
    }

    /// <summary>c = alpha·op(a)·op(b) + beta·c, F64, row-major: column-major cᵀ = op(b)ᵀ·op(a)ᵀ.</summary>
    public void Gemm(IntPtr a, int lda, bool transposeA, IntPtr b, int ldb, bool transposeB, IntPtr c, int ldc, int m, int n, int k,
        double alpha, double beta)
    {
        Cublas.Check(Cublas.cublasDgemm_v2(_handle, transposeB ? Cublas.OpT : Cublas.OpN, transposeA ? Cublas.OpT : Cublas.OpN, n, m, k,
                                           &alpha, b, ldb, a, lda, &beta, c, ldc), $"Dgemm [{m}×{k}]·[{k}×{n}]");
    }

    /// <summary>
    /// The panel of a blocked Cholesky factorization: b[rows, width] ← b·l⁻ᵀ for l [width, width] lower (row-major).
    /// Column-major that is bᵀ ← l⁻¹·bᵀ with l seen as its transpose, an upper matrix: left side, upper, transposed.
    /// </summary>
    public void SolvePanel(IntPtr l, int ldl, IntPtr b, int ldb, int rows, int width)
    {
        double one = 1;
        Cublas.Check(Cublas.cublasDtrsm_v2(_handle, Cublas.SideLeft, Cublas.FillUpper, Cublas.OpT, Cublas.DiagNonUnit, width, rows,
                                           &one, l, ldl, b, ldb), $"Dtrsm panel [{rows}×{width}]");
    }

    /// <summary>
    /// <paramref name="identity"/> (holding I, n×n) becomes l⁻¹ for a lower l: row-major l·m = I is column-major mᶜ·lᶜ = I
    /// with lᶜ upper, a right-side solve, upper, not transposed.
    /// </summary>
    public void InvertLower(IntPtr l, IntPtr identity, int n)
    {
        double one = 1;
        Cublas.Check(Cublas.cublasDtrsm_v2(_handle, Cublas.SideRight, Cublas.FillUpper, Cublas.OpN, Cublas.DiagNonUnit, n, n,
                                           &one, l, n, identity, n), $"Dtrsm inverse [{n}×{n}]");
    }
}
