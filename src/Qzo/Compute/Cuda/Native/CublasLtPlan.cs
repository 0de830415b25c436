namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// A cuBLASLt product's descriptor, its three column-major layouts (the weight wᶜ [k, n] used transposed, the input xᶜ
/// [k, m], the bf16 output yᶜ [n, m]) and the heuristic's first algorithm, made once per shape and kept by its owner
/// (<see cref="CublasLtBiasGemm"/>, <see cref="CublasLtFp8Gemm"/>).
/// </summary>
sealed unsafe record CublasLtPlan(IntPtr Desc, IntPtr W, IntPtr X, IntPtr Y, CublasLt.HeuristicResult Heuristic)
{
    /// <summary>The plan for <paramref name="desc"/> (which it then owns), or null, with the descriptor released, when the
    /// heuristic finds no algorithm for the shape.</summary>
    public static CublasLtPlan? Create(IntPtr handle, IntPtr desc, int operandType, int m, int n, int k, nuint workspaceBytes)
    {
        Check(CublasLt.cublasLtMatrixLayoutCreate(out var w, operandType, (ulong)k, (ulong)n, k), "layout of the weight");
        Check(CublasLt.cublasLtMatrixLayoutCreate(out var x, operandType, (ulong)k, (ulong)m, k), "layout of the input");
        Check(CublasLt.cublasLtMatrixLayoutCreate(out var y, Cublas.R16BF, (ulong)n, (ulong)m, n), "layout of the output");
        Check(CublasLt.cublasLtMatmulPreferenceCreate(out var preference), "cublasLtMatmulPreferenceCreate");
        ulong bytes = workspaceBytes;
        Check(CublasLt.cublasLtMatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMaxWorkspaceBytes, &bytes, sizeof(ulong)),
              "set the workspace size");
        CublasLt.HeuristicResult result;
        int status = CublasLt.cublasLtMatmulAlgoGetHeuristic(handle, desc, w, x, y, y, preference, 1, &result, out int found);
        CublasLt.cublasLtMatmulPreferenceDestroy(preference);
        var plan = new CublasLtPlan(desc, w, x, y, result);
        if (status == 0 && found > 0) return plan;
        plan.Release();
        return null;
    }

    /// <summary>Sets an int attribute of a descriptor.</summary>
    public static void Set(IntPtr desc, int attribute, int value, string what) =>
        Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof(int)), what);

    /// <summary>Sets a pointer attribute of this plan's descriptor (a bias, a scale) before a call.</summary>
    public void SetPointer(int attribute, IntPtr pointer, string what) =>
        Check(CublasLt.cublasLtMatmulDescSetAttribute(Desc, attribute, &pointer, (nuint)sizeof(IntPtr)), what);

    /// <summary>y = α·op(w)·x + β·y on <paramref name="stream"/>.</summary>
    public void Multiply(IntPtr handle, IntPtr w, IntPtr x, IntPtr y, float alpha, float beta, IntPtr workspace, nuint workspaceBytes,
                         IntPtr stream, string what)
    {
        var heuristic = Heuristic;
        Check(CublasLt.cublasLtMatmul(handle, Desc, &alpha, w, W, x, X, &beta, y, Y, y, Y, heuristic.Algorithm, workspace, workspaceBytes,
                                      stream), what);
    }

    public void Release()
    {
        CublasLt.cublasLtMatrixLayoutDestroy(W);
        CublasLt.cublasLtMatrixLayoutDestroy(X);
        CublasLt.cublasLtMatrixLayoutDestroy(Y);
        CublasLt.cublasLtMatmulDescDestroy(Desc);
    }

    public static void Check(int status, string what) => Cublas.Check(status, $"cuBLASLt: {what}");
}
