using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qzo.Compute.Cpu;

/// <summary>
/// In-register transposes for packing. Callers check <c>Avx512F.IsSupported</c> / <c>Avx.IsSupported</c>;
/// a scalar loop runs instead elsewhere. These are 5–10× faster than element-by-element copies, which
/// otherwise cost ~10% of a 1024³ product with B transposed.
/// </summary>
internal static unsafe class SgemmTranspose
{
    /// <summary>dst[j·ldd + i] = src[i·lds + j] for i, j &lt; 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2 * lds); var r3 = Avx.LoadVector256(src + 3 * lds);
        var r4 = Avx.LoadVector256(src + 4 * lds); var r5 = Avx.LoadVector256(src + 5 * lds);
        var r6 = Avx.LoadVector256(src + 6 * lds); var r7 = Avx.LoadVector256(src + 7 * lds);

        // Per 128-bit lane: pairs of rows interleaved, then groups of four rows per column.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);  // columns 0|4, 1|5 of rows 0–3
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);  // columns 2|6, 3|7
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);  // same for rows 4–7
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>
    /// dst[p·32 + j] = src[j·lds + p] for j &lt; 32, p &lt; kc16 (a multiple of 16): a 32-row panel, as 16×16 blocks.
    /// Each block's loads are issued before the previous block's stores, because a load whose address matches a
    /// pending store modulo 4 KiB waits for it: with the stores first this ran 6× slower for some row strides.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose32Rows(float* src, nint lds, float* dst, int kc16)
    {
        // Block b covers p0 = (b / 2)·16 and rows (b % 2)·16 .. +16.
        int blocks = kc16 / 16 * 2;
        if (blocks == 0) return;
        float* s = src;
        var r0 = Avx512F.LoadVector512(s); var r1 = Avx512F.LoadVector512(s + lds);
        var r2 = Avx512F.LoadVector512(s + 2 * lds); var r3 = Avx512F.LoadVector512(s + 3 * lds);
        var r4 = Avx512F.LoadVector512(s + 4 * lds); var r5 = Avx512F.LoadVector512(s + 5 * lds);
        var r6 = Avx512F.LoadVector512(s + 6 * lds); var r7 = Avx512F.LoadVector512(s + 7 * lds);
        var r8 = Avx512F.LoadVector512(s + 8 * lds); var r9 = Avx512F.LoadVector512(s + 9 * lds);
        var ra = Avx512F.LoadVector512(s + 10 * lds); var rb = Avx512F.LoadVector512(s + 11 * lds);
        var rc = Avx512F.LoadVector512(s + 12 * lds); var rd = Avx512F.LoadVector512(s + 13 * lds);
        var re = Avx512F.LoadVector512(s + 14 * lds); var rf = Avx512F.LoadVector512(s + 15 * lds);
        var even = Vector512.Create(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
        var odd = Vector512.Create(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
        var lo = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        var hi = Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);

        for (int block = 0; block < blocks; block++)
        {
            float* d = dst + block / 2 * 16 * 32 + block % 2 * 16;

            // Within each 128-bit lane L, after two unpack stages u0..u3 hold columns 4L..4L+3 of rows 0–3,
            // u4..u7 of rows 4–7, and so on.
            var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
            var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
            var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
            var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
            var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
            var ta = Avx512F.UnpackLow(ra, rb); var tb = Avx512F.UnpackHigh(ra, rb);
            var tc = Avx512F.UnpackLow(rc, rd); var td = Avx512F.UnpackHigh(rc, rd);
            var te = Avx512F.UnpackLow(re, rf); var tf = Avx512F.UnpackHigh(re, rf);

            if (block + 1 < blocks)
            {
                s = src + (block + 1) % 2 * 16 * lds + (block + 1) / 2 * 16;
                r0 = Avx512F.LoadVector512(s); r1 = Avx512F.LoadVector512(s + lds);
                r2 = Avx512F.LoadVector512(s + 2 * lds); r3 = Avx512F.LoadVector512(s + 3 * lds);
                r4 = Avx512F.LoadVector512(s + 4 * lds); r5 = Avx512F.LoadVector512(s + 5 * lds);
                r6 = Avx512F.LoadVector512(s + 6 * lds); r7 = Avx512F.LoadVector512(s + 7 * lds);
                r8 = Avx512F.LoadVector512(s + 8 * lds); r9 = Avx512F.LoadVector512(s + 9 * lds);
                ra = Avx512F.LoadVector512(s + 10 * lds); rb = Avx512F.LoadVector512(s + 11 * lds);
                rc = Avx512F.LoadVector512(s + 12 * lds); rd = Avx512F.LoadVector512(s + 13 * lds);
                re = Avx512F.LoadVector512(s + 14 * lds); rf = Avx512F.LoadVector512(s + 15 * lds);
            }

            var u0 = Low64(t0, t2); var u1 = High64(t0, t2); var u2 = Low64(t1, t3); var u3 = High64(t1, t3);
            var u4 = Low64(t4, t6); var u5 = High64(t4, t6); var u6 = Low64(t5, t7); var u7 = High64(t5, t7);
            var u8 = Low64(t8, ta); var u9 = High64(t8, ta); var ua = Low64(t9, tb); var ub = High64(t9, tb);
            var uc = Low64(tc, te); var ud = High64(tc, te); var ue = Low64(td, tf); var uf = High64(td, tf);

            // Gather lanes: v = (a.L0, b.L0, a.L2, b.L2) or (a.L1, b.L1, a.L3, b.L3) of rows 0–3 and 4–7 ...
            var v00 = Avx512F.PermuteVar16x32x2(u0, even, u4); var v01 = Avx512F.PermuteVar16x32x2(u0, odd, u4);
            var v10 = Avx512F.PermuteVar16x32x2(u1, even, u5); var v11 = Avx512F.PermuteVar16x32x2(u1, odd, u5);
            var v20 = Avx512F.PermuteVar16x32x2(u2, even, u6); var v21 = Avx512F.PermuteVar16x32x2(u2, odd, u6);
            var v30 = Avx512F.PermuteVar16x32x2(u3, even, u7); var v31 = Avx512F.PermuteVar16x32x2(u3, odd, u7);
            var w00 = Avx512F.PermuteVar16x32x2(u8, even, uc); var w01 = Avx512F.PermuteVar16x32x2(u8, odd, uc);
            var w10 = Avx512F.PermuteVar16x32x2(u9, even, ud); var w11 = Avx512F.PermuteVar16x32x2(u9, odd, ud);
            var w20 = Avx512F.PermuteVar16x32x2(ua, even, ue); var w21 = Avx512F.PermuteVar16x32x2(ua, odd, ue);
            var w30 = Avx512F.PermuteVar16x32x2(ub, even, uf); var w31 = Avx512F.PermuteVar16x32x2(ub, odd, uf);

            // ... then the low or high 256 bits of v (rows 0–7) and w (rows 8–15) make one output row.
            Avx512F.Store(d, Avx512F.PermuteVar16x32x2(v00, lo, w00));
            Avx512F.Store(d + 32, Avx512F.PermuteVar16x32x2(v10, lo, w10));
            Avx512F.Store(d + 2 * 32, Avx512F.PermuteVar16x32x2(v20, lo, w20));
            Avx512F.Store(d + 3 * 32, Avx512F.PermuteVar16x32x2(v30, lo, w30));
            Avx512F.Store(d + 4 * 32, Avx512F.PermuteVar16x32x2(v01, lo, w01));
            Avx512F.Store(d + 5 * 32, Avx512F.PermuteVar16x32x2(v11, lo, w11));
            Avx512F.Store(d + 6 * 32, Avx512F.PermuteVar16x32x2(v21, lo, w21));
            Avx512F.Store(d + 7 * 32, Avx512F.PermuteVar16x32x2(v31, lo, w31));
            Avx512F.Store(d + 8 * 32, Avx512F.PermuteVar16x32x2(v00, hi, w00));
            Avx512F.Store(d + 9 * 32, Avx512F.PermuteVar16x32x2(v10, hi, w10));
            Avx512F.Store(d + 10 * 32, Avx512F.PermuteVar16x32x2(v20, hi, w20));
            Avx512F.Store(d + 11 * 32, Avx512F.PermuteVar16x32x2(v30, hi, w30));
            Avx512F.Store(d + 12 * 32, Avx512F.PermuteVar16x32x2(v01, hi, w01));
            Avx512F.Store(d + 13 * 32, Avx512F.PermuteVar16x32x2(v11, hi, w11));
            Avx512F.Store(d + 14 * 32, Avx512F.PermuteVar16x32x2(v21, hi, w21));
            Avx512F.Store(d + 15 * 32, Avx512F.PermuteVar16x32x2(v31, hi, w31));
        }
    }

    private static Vector512<float> Low64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble())
        .AsSingle();
    private static Vector512<float> High64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble())
        .AsSingle();
}
