namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// c[m, n] = a[m, k]·b[n, k]ᵀ + bias[n] in one cuBLASLt call (the bias added in fp32 in the GEMM's epilogue, then one bf16
/// rounding), so a linear's output is not read and written again to add its bias. Row-major on the column-major API as
/// <see cref="CublasGemm"/>: cᶜ[n, m] = op_T(bᶜ)·aᶜ, the bias along cᶜ's rows. One descriptor, set of layouts and
/// algorithm per shape, kept for the next call; a shape the heuristic finds no algorithm for is remembered and declined.
/// </summary>
sealed unsafe class CublasLtBiasGemm : IDisposable
{
    sealed record Plan(IntPtr Desc, IntPtr A, IntPtr B, IntPtr C, CublasLt.HeuristicResult Heuristic);

    readonly IntPtr _handle, _stream, _workspace;
    readonly nuint _workspaceBytes;
    readonly Dictionary<(int M, int N, int K), Plan?> _plans = [];

    CublasLtBiasGemm(IntPtr handle, IntPtr stream, IntPtr workspace, nuint workspaceBytes)
    {
        (_handle, _stream, _workspace, _workspaceBytes) = (handle, stream, workspace, workspaceBytes);
    }

    /// <summary>The cuBLASLt handle on <paramref name="stream"/>, or null with the reason (no libcublasLt, a failed create).</summary>
    public static CublasLtBiasGemm? TryCreate(IntPtr stream, IntPtr workspace, long workspaceBytes, out string reason)
    {
        NativeLibraries.EnsureResolver();
        try
        {
            int status = CublasLt.cublasLtCreate(out var handle);
            if (status != 0) { reason = $"cublasLtCreate failed with status {status}"; return null; }
            reason = "";
            return new CublasLtBiasGemm(handle, stream, workspace, (nuint)workspaceBytes);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or QzoException)
        {
            reason = e.Message;
            return null;
        }
    }

    /// <summary>False (nothing done) when cuBLASLt has no algorithm for this shape; the caller then multiplies and adds apart.</summary>
    public bool TryMultiplyAddBias(IntPtr a, IntPtr b, IntPtr bias, IntPtr c, int m, int n, int k)
    {
        if (!_plans.TryGetValue((m, n, k), out var plan)) _plans[(m, n, k)] = plan = CreatePlan(m, n, k);
        if (plan is null) return false;
        Check(CublasLt.cublasLtMatmulDescSetAttribute(plan.Desc, CublasLt.DescBiasPointer, &bias, (nuint)sizeof(IntPtr)),
              "set the bias pointer");
        float alpha = 1f, beta = 0f;
        var heuristic = plan.Heuristic;
        Check(CublasLt.cublasLtMatmul(_handle, plan.Desc, &alpha, b, plan.A, a, plan.B, &beta, c, plan.C, c, plan.C, heuristic.Algorithm,
                                      _workspace, _workspaceBytes, _stream), $"cublasLtMatmul [{m}×{k}]·[{n}×{k}]ᵀ + bias");
        return true;
    }

    Plan? CreatePlan(int m, int n, int k)
    {
        Check(CublasLt.cublasLtMatmulDescCreate(out var desc, Cublas.Compute32F, Cublas.R32F), "cublasLtMatmulDescCreate");
        int transposed = Cublas.OpT, plain = Cublas.OpN, epilogue = CublasLt.EpilogueBias;
        Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, CublasLt.DescTransA, &transposed, sizeof(int)), "set transa");
        Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, CublasLt.DescTransB, &plain, sizeof(int)), "set transb");
        Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, CublasLt.DescEpilogue, &epilogue, sizeof(int)), "set the epilogue");
        // Column-major: the weight bᶜ is [k, n] (ld k), used transposed; the activations aᶜ [k, m] (ld k); cᶜ [n, m] (ld n).
        Check(CublasLt.cublasLtMatrixLayoutCreate(out var aLayout, Cublas.R16BF, (ulong)k, (ulong)n, k), "layout of the weight");
        Check(CublasLt.cublasLtMatrixLayoutCreate(out var bLayout, Cublas.R16BF, (ulong)k, (ulong)m, k), "layout of the input");
        Check(CublasLt.cublasLtMatrixLayoutCreate(out var cLayout, Cublas.R16BF, (ulong)n, (ulong)m, n), "layout of the output");
        Check(CublasLt.cublasLtMatmulPreferenceCreate(out var preference), "cublasLtMatmulPreferenceCreate");
        ulong bytes = _workspaceBytes;
        Check(CublasLt.cublasLtMatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMaxWorkspaceBytes, &bytes, sizeof(ulong)),
              "set the workspace size");
        CublasLt.HeuristicResult result;
        int status = CublasLt.cublasLtMatmulAlgoGetHeuristic(_handle, desc, aLayout, bLayout, cLayout, cLayout, preference, 1, &result,
                                                             out int found);
        CublasLt.cublasLtMatmulPreferenceDestroy(preference);
        if (status == 0 && found > 0) return new Plan(desc, aLayout, bLayout, cLayout, result);
        Release(desc, aLayout, bLayout, cLayout);
        return null;
    }

    static void Release(IntPtr desc, IntPtr a, IntPtr b, IntPtr c)
    {
        CublasLt.cublasLtMatrixLayoutDestroy(a);
        CublasLt.cublasLtMatrixLayoutDestroy(b);
        CublasLt.cublasLtMatrixLayoutDestroy(c);
        CublasLt.cublasLtMatmulDescDestroy(desc);
    }

    static void Check(int status, string what) => Cublas.Check(status, $"cuBLASLt: {what}");

    public void Dispose()
    {
        foreach (var plan in _plans.Values)
            if (plan is not null) Release(plan.Desc, plan.A, plan.B, plan.C);
        _plans.Clear();
        CublasLt.cublasLtDestroy(_handle);
    }
}
