namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// A cuBLASLt product's descriptor, its three column-major layouts (the weight wᶜ [k, n] used transposed, the input xᶜ
/// [k, m], the bf16 output yᶜ [n, m]) and the heuristic's algorithms, best first, made once per shape and kept by its
/// owner (<see cref="CublasLtBiasGemm"/>, <see cref="CublasLtFp8Gemm"/>).
/// </summary>
sealed unsafe record CublasLtPlan(IntPtr Desc, IntPtr W, IntPtr X, IntPtr Y, CublasLt.HeuristicResult[] Heuristics)
{
    /// <summary>Algorithms asked of the heuristic: the first is used while cuBLASLt accepts it at the call.</summary>
    const int Candidates = 8;

    /// <summary>The algorithm in use: cuBLASLt's heuristic has offered algorithms that the call itself then refuses with
    /// NOT_SUPPORTED (fp8 on some releases); such a refusal, which launches nothing, moves on to the next.</summary>
    int _chosen;

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
        var results = new CublasLt.HeuristicResult[Candidates];
        int status, found;
        fixed (CublasLt.HeuristicResult* first = results)
            status = CublasLt.cublasLtMatmulAlgoGetHeuristic(handle, desc, w, x, y, y, preference, Candidates, first, out found);
        CublasLt.cublasLtMatmulPreferenceDestroy(preference);
        var plan = new CublasLtPlan(desc, w, x, y, status == 0 ? results[..Math.Max(found, 0)] : []);
        if (plan.Heuristics.Length > 0) return plan;
        plan.Release();
        return null;
    }

    /// <summary>Sets an int attribute of a descriptor.</summary>
    public static void Set(IntPtr desc, int attribute, int value, string what) =>
        Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof(int)), what);

    /// <summary>Sets a pointer attribute of this plan's descriptor (a bias) before a call.</summary>
    public void SetPointer(int attribute, IntPtr pointer, string what) => SetPointer(Desc, attribute, pointer, what);

    /// <summary>Sets a pointer attribute of a descriptor.</summary>
    public static void SetPointer(IntPtr desc, int attribute, IntPtr pointer, string what) =>
        Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, attribute, &pointer, (nuint)sizeof(IntPtr)), what);

    /// <summary>y = α·op(w)·x + β·y on <paramref name="stream"/>.</summary>
    public void Multiply(IntPtr handle, IntPtr w, IntPtr x, IntPtr y, float alpha, float beta, IntPtr workspace, nuint workspaceBytes,
                         IntPtr stream, string what)
    {
        while (true)
        {
            var heuristic = Heuristics[_chosen];
            int status = CublasLt.cublasLtMatmul(handle, Desc, &alpha, w, W, x, X, &beta, y, Y, y, Y, heuristic.Algorithm, workspace,
                                                 workspaceBytes, stream);
            if (status == Cublas.StatusNotSupported && _chosen + 1 < Heuristics.Length) { _chosen++; continue; }
            Check(status, status == Cublas.StatusNotSupported ? $"{what} (none of the heuristic's {Heuristics.Length} algorithms)" : what);
            return;
        }
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
