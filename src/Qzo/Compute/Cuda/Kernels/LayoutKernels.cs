using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>Bit-exact data movement for any element type: axis permutations and strided sub-matrix copies.</summary>
static class LayoutKernels
{
    /// <summary>
    /// y's shape padded in front to six axes (D0..D5), and for each the stride in x of one step along it (S0..S5; 0 on the
    /// padding axes).
    /// </summary>
    public readonly record struct Permutation(int D0, int D1, int D2, int D3, int D4, int D5,
                                              long S0, long S1, long S2, long S3, long S4, long S5);

    /// <summary>y[index] = x[Σ_a coordinate_a(index)·S_a], index row-major over y.</summary>
    public static void Permute<T>(Index1D index, ArrayView<T> x, ArrayView<T> y, Permutation p) where T : unmanaged
    {
        long rest = index, source = 0;
        source += rest % p.D5 * p.S5; rest /= p.D5;
        source += rest % p.D4 * p.S4; rest /= p.D4;
        source += rest % p.D3 * p.S3; rest /= p.D3;
        source += rest % p.D2 * p.S2; rest /= p.D2;
        source += rest % p.D1 * p.S1; rest /= p.D1;
        source += rest * p.S0;
        y[index] = x[source];
    }

    /// <summary>A sub-matrix copy: index = r·columns + c.</summary>
    public static void CopyMatrix<T>(Index1D index, ArrayView<T> source, ArrayView<T> destination, long sourceOffset, int sourceStride,
                                     long destinationOffset, int destinationStride, int columns) where T : unmanaged
    {
        int r = index / columns, c = index - r * columns;
        destination[destinationOffset + (long)r * destinationStride + c] = source[sourceOffset + (long)r * sourceStride + c];
    }
}
