using System.Runtime.CompilerServices;

namespace Qzo.Numerics;

/// <summary>
/// The random direction z of docs/algorithm.md §5: element i of trainable tensor t under step seed s is
/// Box-Muller over Philox4x32-10 with key (lo32(s), hi32(s)) and counter (lo32(i), hi32(i), t, 0).
/// Every z is a pure function of (seed, tensor, index), so generation order and threading cannot change it,
/// and the update can regenerate exactly what the forward passes used. The same code runs inside CUDA
/// kernels: ln and cos come from <see cref="DeterministicMath"/> (double, explicit FMAs) and the product is
/// rounded once to fp32, so every backend draws bit-identical z.
/// </summary>
public static class GaussianDirection
{
    const double TwoPow24Inv = 1.0 / 16777216.0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Z(ulong seed, int tensor, long index) => Z<CpuFma>(seed, tensor, index);

    /// <summary>z with the FMA of the device that runs it (kernels for CUDA pass an fma.rn.f64 strategy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Z<TFma>(ulong seed, int tensor, long index) where TFma : struct, IFusedMultiplyAdd
    {
        var (x0, x1, _, _) = Philox.Generate((uint)index, (uint)((ulong)index >> 32), (uint)tensor, 0u,
                                             (uint)seed, (uint)(seed >> 32));
        double u1 = ((x0 >> 8) + 1) * TwoPow24Inv;  // (0, 1]: ln never sees 0; exact
        double u2 = (x1 >> 8) * TwoPow24Inv;        // [0, 1), a multiple of 2⁻²⁴; exact
        return (float)(Math.Sqrt(-2.0 * DeterministicMath.Log<TFma>(u1)) * DeterministicMath.CosTwoPi<TFma>(u2));
    }

    /// <summary>
    /// value + scale·z, rounded once to fp32. The float×float product is exact in double, so every device gets the
    /// same bits whether or not its compiler fuses the multiply and add.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Step(float value, float scale, float z) => (float)(value + (double)scale * z);

    /// <summary>Writes z(seed, tensor, start + k) into destination[k].</summary>
    public static void Fill(ulong seed, int tensor, long start, Span<float> destination)
    {
        for (int k = 0; k < destination.Length; k++)
            destination[k] = Z(seed, tensor, start + k);
    }

    /// <summary>
    /// A new array of z(seed, tensor, k), k = 0 … count − 1, filled in parallel chunks: each z is a pure function of its
    /// index, so the values are those of <see cref="Fill"/> whatever the split (for synthesizing large tensors).
    /// </summary>
    public static float[] Draw(ulong seed, int tensor, long count)
    {
        const int chunk = 1 << 16;
        var values = new float[count];
        Parallel.For(0, (count + chunk - 1) / chunk, c =>
        {
            long start = c * chunk;
            Fill(seed, tensor, start, values.AsSpan((int)start, (int)Math.Min(chunk, count - start)));
        });
        return values;
    }
}
