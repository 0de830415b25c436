using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// The float64 and Gram-matrix operations of <see cref="IBackend"/> as plain kernels: the helpers every device uses
/// (copies, identity, reversal, bf16 → f32, dot products), and for ILGPU's CPU accelerator, where cuBLAS does not exist,
/// the products and triangular solves cuBLAS does on a GPU (one thread per output element, row or column; tests only).
/// </summary>
static class DenseKernels
{
    /// <summary>t = I (n×n); index = i·n + j.</summary>
    public static void Identity(Index1D index, ArrayView<double> t, int n) => t[index] = index / n == index % n ? 1.0 : 0.0;

    /// <summary>Zeroes the strict upper triangle; index = i·n + j.</summary>
    public static void ZeroUpper(Index1D index, ArrayView<double> t, int n)
    {
        if (index % n > index / n) t[index] = 0.0;
    }

    /// <summary>t[i] ↔ t[count − 1 − i] for i &lt; count / 2.</summary>
    public static void Reverse(Index1D index, ArrayView<double> t, long count)
    {
        long other = count - 1 - index;
        double value = t[index];
        t[index] = t[other];
        t[other] = value;
    }

    public static void Bf16ToF32(Index1D index, ArrayView<ushort> source, ArrayView<float> destination) => destination[index] =
        Bf16.ToFloat(source[index]);

    /// <summary>
    /// partial[t] = Σ a[i]·b[i] over i = t, t + threads, t + 2·threads, … &lt; count, in double (reads coalesced across threads).
    /// </summary>
    public static void DotPartials(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<double> partial, long count,
        int threads)
    {
        int t = index;
        double sum = 0;
        for (long i = t; i < count; i += threads) sum += (double)a[i] * b[i];
        partial[t] = sum;
    }

    /// <summary>Index of the first non-finite value: status[0] = min over such indices.</summary>
    public static void FirstNonFinite(Index1D index, ArrayView<float> t, ArrayView<int> status)
    {
        uint bits = Interop.FloatAsInt(t[index]);
        if ((bits & 0x7F800000u) == 0x7F800000u) Atomic.Min(ref status[0], index);
    }

    public readonly record struct GemmShape(int M, int N, int K, long AOffset, int AStride, int TransposeA, long BOffset, int BStride,
        int TransposeB,
                                            long COffset, int CStride, double Alpha, double Beta);

    /// <summary>c = alpha·op(a)·op(b) + beta·c in float64; index = i·n + j.</summary>
    public static void GemmF64(Index1D index, ArrayView<double> a, ArrayView<double> b, ArrayView<double> c, GemmShape s)
    {
        int i = index / s.N, j = index - i * s.N;
        double sum = 0;
        for (int p = 0; p < s.K; p++)
        {
            double x = a[s.AOffset + (s.TransposeA != 0 ? (long)p * s.AStride + i : (long)i * s.AStride + p)];
            double y = b[s.BOffset + (s.TransposeB != 0 ? (long)j * s.BStride + p : (long)p * s.BStride + j)];
            sum += x * y;
        }
        long at = s.COffset + (long)i * s.CStride + j;
        c[at] = s.Beta == 0 ? s.Alpha * sum : s.Alpha * sum + s.Beta * c[at];
    }

    /// <summary>c[m, n] (+)= a[m, k]·b[k, n] in float32 (row-major, contiguous); index = i·n + j.</summary>
    public static void GemmF32(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int n, int k)
    {
        int i = index / n, j = index - i * n;
        float sum = 0;
        for (int p = 0; p < k; p++) sum += a[(long)i * k + p] * b[(long)p * n + j];
        c[index] = sum;
    }

    /// <summary>sum[i, j] += Σ_r x[r, i]·x[r, j] in float32 (x [rows, n]); index = i·n + j.</summary>
    public static void Gram(Index1D index, ArrayView<float> x, ArrayView<float> sum, int rows, int n)
    {
        int i = index / n, j = index - i * n;
        float total = 0;
        for (int r = 0; r < rows; r++) total += x[(long)r * n + i] * x[(long)r * n + j];
        sum[index] += total;
    }

    /// <summary>
    /// Row r of the panel a[top + r, left … left + width) becomes x with x·Lᵀ = that row, L = a[left … , left …] (width × width,
    /// lower): the panel step of a blocked Cholesky factorization.
    /// </summary>
    public static void SolvePanelRow(Index1D index, ArrayView<double> a, int n, int top, int left, int width)
    {
        int r = index;
        long row = (long)(top + r) * n + left;
        for (int j = 0; j < width; j++)
        {
            long lRow = (long)(left + j) * n + left;
            double value = a[row + j];
            for (int k = 0; k < j; k++) value -= a[row + k] * a[lRow + k];
            a[row + j] = value / a[lRow + j];
        }
    }

    /// <summary>Column k of l⁻¹ by forward substitution (l lower triangular; inverse zeroed above the diagonal).</summary>
    public static void InvertLowerColumn(Index1D index, ArrayView<double> l, ArrayView<double> inverse, int n)
    {
        int k = index;
        for (int i = 0; i < k; i++) inverse[(long)i * n + k] = 0.0;
        for (int i = k; i < n; i++)
        {
            double sum = i == k ? 1.0 : 0.0;
            for (int p = k; p < i; p++) sum -= l[(long)i * n + p] * inverse[(long)p * n + k];
            inverse[(long)i * n + k] = sum / l[(long)i * n + i];
        }
    }
}
