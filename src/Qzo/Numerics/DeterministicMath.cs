using System.Runtime.CompilerServices;
using ILGPU;

namespace Qzo.Numerics;

/// <summary>
/// ln and cos(2πu) evaluated in double precision where every multiply-add is an explicit fused multiply-add,
/// so the CPU and a CUDA kernel (given the FMA strategy of each) produce bit-identical results. (ILGPU 1.5 lowers MathF.Log/Cos to PTX's
/// approximate lg2/cos and emits mul/add without rounding modifiers, which ptxas may fuse at will; both would
/// make the GPU's z drift from the CPU's.) Polynomials are fdlibm's (e_log.c, k_cos.c, k_sin.c); the results
/// are accurate to about 1e-16, far below the fp32 rounding of z.
/// </summary>
public static class DeterministicMath
{
    const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10;
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
                 Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    const double Sqrt2 = 1.41421356237309504880;

    /// <summary>Natural log of a positive, normal, finite x.</summary>
    public static double Log(double x) => Log<CpuFma>(x);

    /// <summary>cos(2π·u) for u in [0, 1) that is a multiple of 2⁻²⁴.</summary>
    public static double CosTwoPi(double u) => CosTwoPi<CpuFma>(u);

    public static double Log<TFma>(double x) where TFma : struct, IFusedMultiplyAdd
    {
        var fma = default(TFma);
        ulong bits = Interop.FloatAsInt(x);
        int k = (int)((bits >> 52) & 0x7FF) - 1023;
        double m = Interop.IntAsFloat((bits & 0x000F_FFFF_FFFF_FFFFUL) | 0x3FF0_0000_0000_0000UL); // [1, 2)
        if (m > Sqrt2) { m *= 0.5; k++; }                                                       // [√½, √2), exact
        double f = m - 1.0;                                                                      // exact
        double s = f / (2.0 + f);
        double z = s * s, w = z * z;
        double t1 = w * fma.Fma(w, fma.Fma(w, Lg6, Lg4), Lg2);
        double r = fma.Fma(z, fma.Fma(w, fma.Fma(w, fma.Fma(w, Lg7, Lg5), Lg3), Lg1), t1);
        double halfF = 0.5 * f;                                                                  // exact
        double kd = k;
        double a = fma.Fma(s, fma.Fma(halfF, f, r), kd * Ln2Lo);                                        // s·(f²/2 + R) + k·ln2_lo
        double b = fma.Fma(halfF, f, -a) - f;                                                        // (f²/2 − a) − f
        return fma.Fma(kd, Ln2Hi, -b);                                                               // k·ln2_hi − b
    }

    const double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03, C3 = 2.48015872894767294178e-05,
                 C4 = -2.75573143513906633035e-07, C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
    const double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03, S3 = -1.98412698298579493134e-04,
                 S4 = 2.75573137070700676789e-06, S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
    const double TwoPi = 6.28318530717958647692;

    /// <summary>cos(2π·u) for u in [0, 1) that is a multiple of 2⁻²⁴ (so every reduction step below is exact).</summary>
    public static double CosTwoPi<TFma>(double u) where TFma : struct, IFusedMultiplyAdd
    {
        var fma = default(TFma);
        double v = u >= 0.5 ? u - 1.0 : u;      // [−½, ½), exact
        if (v < 0) v = -v;                       // cos is even: [0, ½]
        int quadrant = (int)(v * 4.0 + 0.5);     // nearest quarter turn: 0, 1 or 2 (exact arithmetic)
        double x = (v - quadrant * 0.25) * TwoPi; // |x| ≤ π/4
        double z = x * x;
        if (quadrant == 1)                       // cos(x + π/2) = −sin x
            return -fma.Fma(x * z, fma.Fma(z, fma.Fma(z, fma.Fma(z, fma.Fma(z, fma.Fma(z, S6, S5), S4), S3), S2), S1), x);
        double cos = fma.Fma(z * z, fma.Fma(z, fma.Fma(z, fma.Fma(z, fma.Fma(z, fma.Fma(z, C6, C5), C4), C3), C2), C1),
            fma.Fma(-0.5, z, 1.0));
        return quadrant == 2 ? -cos : cos;       // cos(x + π) = −cos x
    }
}
