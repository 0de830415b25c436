namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// y[m, n] (+)= (wScale·xScale)·x[m, k]·w[n, k]ᵀ (+ bias[n]) with x and w e4m3 codes, fp32 sums and a bf16 y, in one
/// cuBLASLt call. Hopper's fp8 kernels take only the "TN" arrangement, which is this one on the column-major API: the
/// weight wᶜ [k, n] (ld k) transposed, the input xᶜ [k, m] (ld k) as is, yᶜ [n, m] (ld n). The scales are device
/// pointers (Fp8Kernels writes them), multiplied into the sums before the bias. One plan per shape, bias and accumulate.
/// </summary>
sealed unsafe class CublasLtFp8Gemm(IntPtr handle, IntPtr stream, IntPtr workspace, nuint workspaceBytes) : IDisposable
{
    sealed record Plan(IntPtr Desc, IntPtr W, IntPtr X, IntPtr Y, CublasLt.HeuristicResult Heuristic);

    readonly Dictionary<(int M, int N, int K, bool Bias), Plan?> _plans = [];

    /// <summary>A cuBLASLt handle on <paramref name="stream"/>; a QzoException naming the failure otherwise.</summary>
    public static CublasLtFp8Gemm Create(IntPtr stream, IntPtr workspace, long workspaceBytes)
    {
        NativeLibraries.EnsureResolver();
        int status = CublasLt.cublasLtCreate(out var handle);
        if (status != 0) throw new QzoException($"--compute fp8: cublasLtCreate failed with status {status}");
        return new CublasLtFp8Gemm(handle, stream, workspace, (nuint)workspaceBytes);
    }

    /// <summary>Whether cuBLASLt has an fp8 algorithm for this shape (planned once and kept).</summary>
    public bool Supports(int m, int n, int k, bool bias) => PlanFor(m, n, k, bias) is not null;

    public void Multiply(IntPtr x, IntPtr w, IntPtr xScale, IntPtr wScale, IntPtr bias, IntPtr y, int m, int n, int k, bool accumulate)
    {
        var plan = PlanFor(m, n, k, bias != 0) ?? throw new InvalidOperationException($"no fp8 plan for {m}×{n}×{k}");
        Check(CublasLt.cublasLtMatmulDescSetAttribute(plan.Desc, CublasLt.DescAScalePointer, &wScale, (nuint)sizeof(IntPtr)),
              "set the weight's scale");
        Check(CublasLt.cublasLtMatmulDescSetAttribute(plan.Desc, CublasLt.DescBScalePointer, &xScale, (nuint)sizeof(IntPtr)),
              "set the input's scale");
        if (bias != 0)
            Check(CublasLt.cublasLtMatmulDescSetAttribute(plan.Desc, CublasLt.DescBiasPointer, &bias, (nuint)sizeof(IntPtr)),
                  "set the bias");
        float alpha = 1f, beta = accumulate ? 1f : 0f;
        var heuristic = plan.Heuristic;
        Check(CublasLt.cublasLtMatmul(handle, plan.Desc, &alpha, w, plan.W, x, plan.X, &beta, y, plan.Y, y, plan.Y, heuristic.Algorithm,
                                      workspace, workspaceBytes, stream), $"fp8 cublasLtMatmul [{m}×{k}]·[{n}×{k}]ᵀ");
    }

    Plan? PlanFor(int m, int n, int k, bool bias)
    {
        if (!_plans.TryGetValue((m, n, k, bias), out var plan)) _plans[(m, n, k, bias)] = plan = CreatePlan(m, n, k, bias);
        return plan;
    }

    Plan? CreatePlan(int m, int n, int k, bool bias)
    {
        Check(CublasLt.cublasLtMatmulDescCreate(out var desc, Cublas.Compute32F, Cublas.R32F), "cublasLtMatmulDescCreate");
        int transposed = Cublas.OpT, plain = Cublas.OpN, epilogue = bias ? CublasLt.EpilogueBias : CublasLt.EpilogueDefault;
        int biasType = Cublas.R16BF;
        Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, CublasLt.DescTransA, &transposed, sizeof(int)), "set transa");
        Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, CublasLt.DescTransB, &plain, sizeof(int)), "set transb");
        Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, CublasLt.DescEpilogue, &epilogue, sizeof(int)), "set the epilogue");
        if (bias)
            Check(CublasLt.cublasLtMatmulDescSetAttribute(desc, CublasLt.DescBiasDataType, &biasType, sizeof(int)), "set the bias type");
        Check(CublasLt.cublasLtMatrixLayoutCreate(out var wLayout, CublasLt.R8FE4M3, (ulong)k, (ulong)n, k), "layout of the weight");
        Check(CublasLt.cublasLtMatrixLayoutCreate(out var xLayout, CublasLt.R8FE4M3, (ulong)k, (ulong)m, k), "layout of the input");
        Check(CublasLt.cublasLtMatrixLayoutCreate(out var yLayout, Cublas.R16BF, (ulong)n, (ulong)m, n), "layout of the output");
        Check(CublasLt.cublasLtMatmulPreferenceCreate(out var preference), "cublasLtMatmulPreferenceCreate");
        ulong bytes = workspaceBytes;
        Check(CublasLt.cublasLtMatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMaxWorkspaceBytes, &bytes, sizeof(ulong)),
              "set the workspace size");
        CublasLt.HeuristicResult result;
        int status = CublasLt.cublasLtMatmulAlgoGetHeuristic(handle, desc, wLayout, xLayout, yLayout, yLayout, preference, 1, &result,
                                                             out int found);
        CublasLt.cublasLtMatmulPreferenceDestroy(preference);
        if (status == 0 && found > 0) return new Plan(desc, wLayout, xLayout, yLayout, result);
        Release(desc, wLayout, xLayout, yLayout);
        return null;
    }

    static void Release(IntPtr desc, IntPtr w, IntPtr x, IntPtr y)
    {
        CublasLt.cublasLtMatrixLayoutDestroy(w);
        CublasLt.cublasLtMatrixLayoutDestroy(x);
        CublasLt.cublasLtMatrixLayoutDestroy(y);
        CublasLt.cublasLtMatmulDescDestroy(desc);
    }

    static void Check(int status, string what) => Cublas.Check(status, $"cuBLASLt: {what}");

    public void Dispose()
    {
        foreach (var plan in _plans.Values)
            if (plan is not null) Release(plan.Desc, plan.W, plan.X, plan.Y);
        _plans.Clear();
        CublasLt.cublasLtDestroy(handle);
    }
}
