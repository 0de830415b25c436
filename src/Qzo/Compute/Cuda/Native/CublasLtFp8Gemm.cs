namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// y[m, n] (+)= (wScale·xScale)·x[m, k]·w[n, k]ᵀ (+ bias[n]) with x and w e4m3 codes, fp32 sums and a bf16 y, in one
/// cuBLASLt call. Hopper's fp8 kernels take only the "TN" arrangement, which is this one on the column-major API: the
/// weight wᶜ [k, n] (ld k) transposed, the input xᶜ [k, m] (ld k) as is, yᶜ [n, m] (ld n). The scales are device
/// pointers (Fp8Kernels writes them into two fixed, 256-byte aligned slots), multiplied into the sums before the bias;
/// since they never move, each descriptor gets them once, when it is made. One plan per shape and bias.
/// </summary>
sealed class CublasLtFp8Gemm(IntPtr handle, IntPtr stream, IntPtr workspace, nuint workspaceBytes, IntPtr xScale, IntPtr wScale)
    : IDisposable
{
    readonly Dictionary<(int M, int N, int K, bool Bias), CublasLtPlan?> _plans = [];

    /// <summary>A cuBLASLt handle on <paramref name="stream"/>; a QzoException naming the failure otherwise.</summary>
    /// <param name="xScale">the device float every product's input codes are scaled by (amax/448 of the input).</param>
    /// <param name="wScale">the same for the weight's codes.</param>
    public static CublasLtFp8Gemm Create(IntPtr stream, IntPtr workspace, long workspaceBytes, IntPtr xScale, IntPtr wScale)
    {
        NativeLibraries.EnsureResolver();
        int status = CublasLt.cublasLtCreate(out var handle);
        if (status != 0) throw new QzoException($"--compute fp8: cublasLtCreate failed with status {status}");
        return new CublasLtFp8Gemm(handle, stream, workspace, (nuint)workspaceBytes, xScale, wScale);
    }

    /// <summary>Whether cuBLASLt has an fp8 algorithm for this shape (planned once and kept).</summary>
    public bool Supports(int m, int n, int k, bool bias) => PlanFor(m, n, k, bias) is not null;

    public void Multiply(IntPtr x, IntPtr w, IntPtr bias, IntPtr y, int m, int n, int k, bool accumulate)
    {
        var plan = PlanFor(m, n, k, bias != 0) ?? throw new InvalidOperationException($"no fp8 plan for {m}×{n}×{k}");
        if (bias != 0) plan.SetPointer(CublasLt.DescBiasPointer, bias, "set the bias");
        plan.Multiply(handle, w, x, y, 1f, accumulate ? 1f : 0f, workspace, workspaceBytes, stream,
                      $"fp8 cublasLtMatmul [{m}×{k}]·[{n}×{k}]ᵀ");
    }

    CublasLtPlan? PlanFor(int m, int n, int k, bool bias)
    {
        if (!_plans.TryGetValue((m, n, k, bias), out var plan)) _plans[(m, n, k, bias)] = plan = CreatePlan(m, n, k, bias);
        return plan;
    }

    CublasLtPlan? CreatePlan(int m, int n, int k, bool bias)
    {
        CublasLtPlan.Check(CublasLt.cublasLtMatmulDescCreate(out var desc, Cublas.Compute32F, Cublas.R32F), "cublasLtMatmulDescCreate");
        CublasLtPlan.Set(desc, CublasLt.DescTransA, Cublas.OpT, "set transa");
        CublasLtPlan.Set(desc, CublasLt.DescTransB, Cublas.OpN, "set transb");
        CublasLtPlan.Set(desc, CublasLt.DescEpilogue, bias ? CublasLt.EpilogueBias : CublasLt.EpilogueDefault, "set the epilogue");
        if (bias) CublasLtPlan.Set(desc, CublasLt.DescBiasDataType, Cublas.R16BF, "set the bias type");
        CublasLtPlan.SetPointer(desc, CublasLt.DescAScalePointer, wScale, "set the weight's scale");
        CublasLtPlan.SetPointer(desc, CublasLt.DescBScalePointer, xScale, "set the input's scale");
        return CublasLtPlan.Create(handle, desc, CublasLt.R8FE4M3, m, n, k, workspaceBytes);
    }

    public void Dispose()
    {
        foreach (var plan in _plans.Values) plan?.Release();
        _plans.Clear();
        CublasLt.cublasLtDestroy(handle);
    }
}
