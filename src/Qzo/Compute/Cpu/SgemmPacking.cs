using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Qzo.Compute.Cpu;

/// <summary>
/// Copies operand blocks into the layouts the micro-kernels stream through, zero-padding ragged edges so
/// the kernels never branch on shape.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>
    /// Rows [0, mc) × columns [0, kc) of row-major A (row stride lda) into slivers of MR rows:
    /// sliver s holds element (s·MR + r, p) at dst[s·MR·kc + p·MR + r]; rows past mc are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<TKernel>(float* a, nint lda, int mc, int kc, float* dst) where TKernel : IMicroKernel
    {
        int mr = TKernel.MR;
        for (int i0 = 0; i0 < mc; i0 += mr)
        {
            int rows = Math.Min(mr, mc - i0);
            int p0 = 0;
            if (TKernel.MR == 8 && Avx.IsSupported && rows == 8)
                for (; p0 + 8 <= kc; p0 += 8) SgemmTranspose.Transpose8x8(a + i0 * lda + p0, lda, dst + p0 * 8, 8);
            for (int r = 0; r < rows; r++)
            {
                float* src = a + (i0 + r) * lda;
                float* d = dst + r;
                for (int p = p0; p < kc; p++) d[p * mr] = src[p];
            }
            for (int r = rows; r < mr; r++)
                for (int p = 0; p < kc; p++) dst[p * mr + r] = 0f;
            dst += mr * kc;
        }
    }

    /// <summary>
    /// Panel jp of row-major B[k, n] for K rows [k0, k0 + kc): dst[p·NR + j] = B[k0 + p, jp·NR + j],
    /// columns past n zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackPanel<TKernel>(float* b, int n, int k0, int kc, int jp, float* dst) where TKernel : IMicroKernel
    {
        int nr = TKernel.NR;
        int j0 = jp * nr;
        int cols = Math.Min(nr, n - j0);
        float* src = b + (nint)k0 * n + j0;
        if (cols == nr)
        {
            for (int p = 0; p < kc; p++, src += n, dst += nr)
                Unsafe.CopyBlockUnaligned(dst, src, (uint)(TKernel.NR * sizeof(float)));
        }
        else
        {
            for (int p = 0; p < kc; p++, src += n, dst += nr)
            {
                for (int j = 0; j < cols; j++) dst[j] = src[j];
                for (int j = cols; j < nr; j++) dst[j] = 0f;
            }
        }
    }

    /// <summary>
    /// Panel jp of row-major B[n, k] read as Bᵀ, for K columns [k0, k0 + kc):
    /// dst[p·NR + j] = B[jp·NR + j, k0 + p], columns past n zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackPanelTransposed<TKernel>(float* b, int n, int k, int k0, int kc, int jp, float* dst) where TKernel : IMicroKernel
    {
        int nr = TKernel.NR;
        int j0 = jp * nr;
        int cols = Math.Min(nr, n - j0);
        float* src0 = b + (nint)j0 * k + k0;
        int p0 = 0;
        if (cols == nr)
        {
            // Each kernel's own ISA level only, so a forced Vector256 path exercises the AVX transpose.
            if (TKernel.NR == 32 && Avx512F.IsSupported)
            {
                p0 = kc / 16 * 16;
                SgemmTranspose.Transpose32Rows(src0, k, dst, p0);
            }
            else if (TKernel.NR == 16 && Avx.IsSupported)
                for (; p0 + 8 <= kc; p0 += 8)
                {
                    SgemmTranspose.Transpose8x8(src0 + p0, k, dst + p0 * 16, 16);
                    SgemmTranspose.Transpose8x8(src0 + 8 * (nint)k + p0, k, dst + p0 * 16 + 8, 16);
                }
        }
        for (int j = 0; j < cols; j++)
        {
            float* src = src0 + (nint)j * k;
            float* d = dst + j;
            for (int p = p0; p < kc; p++) d[p * nr] = src[p];
        }
        for (int j = cols; j < nr; j++)
            for (int p = 0; p < kc; p++) dst[p * nr + j] = 0f;
    }
}
