using System.Runtime.Intrinsics;

namespace Qzo.Compute.Cpu;

internal enum SgemmPath { Vector512, Vector256 }

/// <summary>Single-precision matrix products on row-major, contiguous spans.</summary>
internal static class Sgemm
{
    /// <summary>C[m,n] (+)= A[m,k] · B[n,k]ᵀ: a linear layer x[tokens,in] · W[out,in]ᵀ.</summary>
    public static void MatMulTransposedB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool accumulate = false)
        => Multiply(a, b, c, m, n, k, accumulate, transposedB: true, DefaultPath);

    /// <summary>C[m,n] (+)= A[m,k] · B[k,n].</summary>
    public static void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false)
        => Multiply(a, b, c, m, n, k, accumulate, transposedB: false, DefaultPath);

    /// <summary>
    /// Plain triple loop with double accumulation, for tests. B is [n,k] when <paramref name="transposedB"/>, else [k,n].
    /// </summary>
    public static unsafe void Reference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool transposedB,
        bool accumulate = false)
    {
        Validate(a.Length, b.Length, c.Length, m, n, k);
        // Pointers, not span indexing: tests run this in Debug builds, where every indexer is a call.
        fixed (float* pa = a, pb = b, pc = c)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    float* row = pa + (nint)i * k;
                    float* col = transposedB ? pb + (nint)j * k : pb + j;
                    nint step = transposedB ? 1 : n;
                    double sum = accumulate ? pc[(nint)i * n + j] : 0.0;
                    for (int p = 0; p < k; p++) sum += (double)row[p] * col[p * step];
                    pc[(nint)i * n + j] = (float)sum;
                }
    }

    internal static SgemmPath DefaultPath { get; } = Vector512.IsHardwareAccelerated ? SgemmPath.Vector512 : SgemmPath.Vector256;

    internal static unsafe void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
                                         bool accumulate, bool transposedB, SgemmPath path)
    {
        Validate(a.Length, b.Length, c.Length, m, n, k);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            if (path == SgemmPath.Vector512) SgemmJob<Vector512Kernel>.Run(pa, pb, pc, m, n, k, accumulate, transposedB);
            else SgemmJob<Vector256Kernel>.Run(pa, pb, pc, m, n, k, accumulate, transposedB);
        }
    }

    private static void Validate(int aLength, int bLength, int cLength, int m, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (aLength < (long)m * k) throw new ArgumentException($"A has {aLength} elements, fewer than m·k = {m}·{k}.", "a");
        if (bLength < (long)n * k) throw new ArgumentException($"B has {bLength} elements, fewer than n·k = {n}·{k}.", "b");
        if (cLength < (long)m * n) throw new ArgumentException($"C has {cLength} elements, fewer than m·n = {m}·{n}.", "c");
    }
}
