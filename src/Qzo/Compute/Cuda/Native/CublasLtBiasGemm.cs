namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// c[m, n] = a[m, k]·b[n, k]ᵀ + bias[n] in one cuBLASLt call (the bias added in fp32 in the GEMM's epilogue, then one bf16
/// rounding), so a linear's output is not read and written again to add its bias. Row-major on the column-major API as
/// <see cref="CublasGemm"/>: cᶜ[n, m] = op_T(bᶜ)·aᶜ, the bias along cᶜ's rows. One descriptor, set of layouts and
/// algorithm per shape, kept for the next call; a shape the heuristic finds no algorithm for is remembered and declined.
/// </summary>
sealed class CublasLtBiasGemm : IDisposable
{
    readonly IntPtr _handle, _stream, _workspace;
    readonly nuint _workspaceBytes;
    readonly Dictionary<(int M, int N, int K), CublasLtPlan?> _plans = [];

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
        plan.SetPointer(CublasLt.DescBiasPointer, bias, "set the bias pointer");
        plan.Multiply(_handle, b, a, c, 1f, 0f, _workspace, _workspaceBytes, _stream, $"cublasLtMatmul [{m}×{k}]·[{n}×{k}]ᵀ + bias");
        return true;
    }

    CublasLtPlan? CreatePlan(int m, int n, int k)
    {
        CublasLtPlan.Check(CublasLt.cublasLtMatmulDescCreate(out var desc, Cublas.Compute32F, Cublas.R32F), "cublasLtMatmulDescCreate");
        CublasLtPlan.Set(desc, CublasLt.DescTransA, Cublas.OpT, "set transa");
        CublasLtPlan.Set(desc, CublasLt.DescTransB, Cublas.OpN, "set transb");
        CublasLtPlan.Set(desc, CublasLt.DescEpilogue, CublasLt.EpilogueBias, "set the epilogue");
        return CublasLtPlan.Create(_handle, desc, Cublas.R16BF, m, n, k, _workspaceBytes);
    }

    public void Dispose()
    {
        foreach (var plan in _plans.Values) plan?.Release();
        _plans.Clear();
        CublasLt.cublasLtDestroy(_handle);
    }
}
