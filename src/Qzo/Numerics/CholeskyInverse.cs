using System.Numerics.Tensors;

namespace Qzo.Numerics;

/// <summary>
/// The factor GPTQ propagates errors with: the upper-triangular U with UᵀU = A⁻¹ for a symmetric positive-definite A
/// (GPTQ computes it as cholesky → cholesky_inverse → cholesky(upper)). Here it takes one Cholesky factorization and one
/// triangular inverse, in double: with J the index reversal, JAJ = LLᵀ gives A = VVᵀ with V = JLJ upper triangular, so
/// A⁻¹ = V⁻ᵀV⁻¹ and U = V⁻¹ = J·L⁻¹·J (the Cholesky factor is unique, so this is the same U).
/// </summary>
internal static class CholeskyInverse
{
    /// <summary>
    /// U (row-major n×n, upper triangle; the strict lower triangle is zero), or null when A is not numerically positive
    /// definite. <paramref name="a"/> (symmetric; only its lower triangle is read) is overwritten: it holds the Cholesky
    /// factor on the way, so the whole computation needs one more n×n array, not three.
    /// </summary>
    public static double[]? UpperFactorOfInverse(double[] a, int n)
    {
        // JAJ in place: (JAJ)[i, j] = A[n−1−i, n−1−j] = A[n−1−j, n−1−i] by symmetry, and the anti-transpose
        // (i, j) ↔ (n−1−j, n−1−i) brings A's lower triangle to the lower triangle, where the Cholesky factorization reads it.
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n - 1 - i; j++)
            {
                long p = (long)i * n + j, q = (long)(n - 1 - j) * n + (n - 1 - i);
                (a[p], a[q]) = (a[q], a[p]);
            }
        if (!CholeskyInPlace(a, n)) return null;
        var m = LowerInverse(a, n);
        // U[i, j] = M[n−1−i, n−1−j]: the reversal maps M's lower triangle onto U's upper one; swap in place.
        long total = (long)n * n;
        for (long k = 0; k < total / 2; k++) (m[k], m[total - 1 - k]) = (m[total - 1 - k], m[k]);
        return m;
    }

    /// <summary>
    /// Lower Cholesky factor in place (Crout order, rows in parallel; the strict upper triangle is zeroed); false on a
    /// non-positive pivot. Only the lower triangle of <paramref name="l"/> is read.
    /// </summary>
    internal static bool CholeskyInPlace(Memory<double> l, int n)
    {
        for (int j = 0; j < n; j++)
        {
            var rowJ = l.Span.Slice(j * n, j);
            double pivot = l.Span[j * n + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            if (!(pivot > 0) || !double.IsFinite(pivot)) return false;
            double diagonal = Math.Sqrt(pivot);
            l.Span[j * n + j] = diagonal;
            int jj = j;
            void Row(int i)
            {
                var all = l.Span;
                var li = all.Slice(i * n, n);
                li[jj] = (li[jj] - TensorPrimitives.Dot<double>(li[..jj], all.Slice(jj * n, jj))) / diagonal;
            }
            int remaining = n - j - 1;
            if ((long)remaining * j < 1 << 16) for (int i = j + 1; i < n; i++) Row(i);
            else Parallel.For(j + 1, n, Row);
        }
        for (int i = 0; i < n; i++) l.Span.Slice(i * n + i + 1, n - i - 1).Clear();
        return true;
    }

    /// <summary>L⁻¹ for a lower-triangular L, one column at a time (forward substitution), columns in parallel.</summary>
    internal static double[] LowerInverse(double[] l, int n)
    {
        var m = new double[(long)n * n];
        LowerInverse(l, n, m);
        return m;
    }

    /// <summary>L⁻¹ into <paramref name="inverse"/> (n×n, zero above the diagonal on return).</summary>
    internal static void LowerInverse(Memory<double> l, int n, Memory<double> inverse)
    {
        inverse.Span[..(n * n)].Clear();
        Parallel.For(0, n, () => new double[n], (k, _, x) =>
        {
            var lk = l.Span;
            var m = inverse.Span;
            x[k] = 1 / lk[k * n + k];
            m[k * n + k] = x[k];
            for (int i = k + 1; i < n; i++)
            {
                double sum = TensorPrimitives.Dot<double>(lk.Slice(i * n + k, i - k), x.AsSpan(k, i - k));
                x[i] = -sum / lk[i * n + i];
                m[i * n + k] = x[i];
            }
            return x;
        }, _ => { });
    }
}
