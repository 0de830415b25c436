using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;
using Qzo.Compute.Cuda.Native;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>
/// Calibration statistics and float64 linear algebra: cuBLAS on a GPU (fp32 GemmEx without TF32, Dgemm, Dtrsm), the
/// plain kernels of <see cref="DenseKernels"/> on ILGPU's CPU accelerator. The Cholesky factorization is blocked
/// either way: small diagonal blocks on the host, the panels and the trailing update on the device.
/// </summary>
internal sealed partial class CudaBackend
{
    DenseKernelSet? _dense;
    CublasDense? _blas;
    IlgpuTensor? _f32Scratch;

    DenseKernelSet Dense => _dense ??= new DenseKernelSet(_accelerator);
    CublasDense? Blas => _cublas is null ? null : _blas ??= new CublasDense(_cublas);

    /// <summary>Columns of the diagonal blocks the host factors (a few on the simulator, so tests cross blocks).</summary>
    int CholeskyBlock => IsCuda ? 256 : 16;

    public void AccumulateGram(DeviceTensor x, int rows, int n, DeviceTensor sum) => Timed("gram", () =>
    {
        Require(sum, DType.F32);
        if (rows == 0) return;
        long count = (long)rows * n;
        var input = x.DType == DType.F32 ? VF(x) : ToF32(x, count);
        if (Blas is { } blas) blas.Gram(Address(input), rows, n, Ilgpu(sum).Pointer);
        else Dense.Gram(Count((long)n * n), input, VF(sum), rows, n);
    });

    public double QuadraticForm(DeviceTensor h, DeviceTensor d, int rows, int n)
    {
        if (rows == 0) return 0;
        long count = (long)rows * n;
        int threads = (int)Math.Min(count, 1 << 16);
        using var product = (IlgpuTensor)Allocate(DType.F32, count, MemoryCategory.Workspace);
        using var partial = (IlgpuTensor)Allocate(DType.F64, threads, MemoryCategory.Workspace);
        if (Blas is { } blas) blas.MultiplyF32(Ilgpu(d).Pointer, Ilgpu(h).Pointer, product.Pointer, rows, n, n);
        else Dense.GemmF32(Count(count), VF(d), VF(h), product.View<float>(), n, n);
        Dense.DotPartials(threads, product.View<float>(), VF(d), partial.View<double>(), count, threads);
        var sums = new double[threads];
        Download<double>(partial, sums);
        double total = 0;
        foreach (double s in sums) total += s;
        return total;
    }

    public long FirstNonFinite(DeviceTensor t, long count)
    {
        using var status = (IlgpuTensor)Allocate(DType.I32, 1, MemoryCategory.Workspace);
        Upload<int>(status, [int.MaxValue]);
        if (count > 0) Dense.FirstNonFinite(Count(count), VF(t).SubView(0, count), status.View<int>());
        var first = new int[1];
        Download<int>(status, first);
        return first[0] == int.MaxValue ? -1 : first[0];
    }

    public void CopyMatrix(MatrixView source, MatrixView destination, int rows, int columns) => Timed("copy-matrix", () =>
    {
        if (source.Tensor.DType != destination.Tensor.DType) throw new ArgumentException("copy between different element types");
        MatrixBounds.Check(source, rows, columns, nameof(source));
        MatrixBounds.Check(destination, rows, columns, nameof(destination));
        if (rows == 0 || columns == 0) return;
        var from = Ilgpu(source.Tensor); var to = Ilgpu(destination.Tensor);
        if (_streaming is not null && _streaming.TryCopyRows(from.Pointer, source.Offset, source.Stride, to.Pointer, destination.Offset,
                destination.Stride, rows, columns, from.DType.SizeInBytes())) return;
        int n = Count((long)rows * columns);
        var (so, ss, d, ds) = (source.Offset, source.Stride, destination.Offset, destination.Stride);
        switch (from.DType.SizeInBytes())
        {
            case 1: Diffusion.CopyMatrix<byte>()(n, from.View<byte>(), to.View<byte>(), so, ss, d, ds, columns); break;
            case 2: Diffusion.CopyMatrix<ushort>()(n, from.View<ushort>(), to.View<ushort>(), so, ss, d, ds, columns); break;
            case 4: Diffusion.CopyMatrix<int>()(n, from.View<int>(), to.View<int>(), so, ss, d, ds, columns); break;
            case 8: Diffusion.CopyMatrix<long>()(n, from.View<long>(), to.View<long>(), so, ss, d, ds, columns); break;
            default: throw new ArgumentException($"copy of {from.DType} elements is not supported");
        }
    });

    public void MatMulF64(MatrixView a, bool transposeA, MatrixView b, bool transposeB, MatrixView c, int m, int n, int k, double alpha,
        double beta) => Timed("dgemm", () =>
    {
        if (m == 0 || n == 0) return;
        if (Blas is { } blas)
            blas.Gemm(Address(a), a.Stride, transposeA, Address(b), b.Stride, transposeB, Address(c), c.Stride, m, n, k, alpha, beta);
        else
            Dense.GemmF64(Count((long)m * n), VD(a.Tensor), VD(b.Tensor), VD(c.Tensor),
                          new DenseKernels.GemmShape(m, n, k, a.Offset, a.Stride, transposeA ? 1 : 0, b.Offset, b.Stride,
                          transposeB ? 1 : 0, c.Offset, c.Stride, alpha, beta));
    });

    public bool CholeskyLower(DeviceTensor a, int n)
    {
        var all = MatrixView.Of(a, n);
        int nb = Math.Min(CholeskyBlock, n);
        var block = new double[nb * nb];
        using var scratch = Allocate(DType.F64, (long)nb * nb, MemoryCategory.Workspace);
        for (int k0 = 0; k0 < n; k0 += nb)
        {
            int kb = Math.Min(nb, n - k0), rest = n - k0 - kb;
            var diagonal = MatrixView.Of(scratch, kb);
            CopyMatrix(all.At(k0, k0), diagonal, kb, kb);
            Download<double>(scratch, block.AsSpan(0, kb * kb));
            if (!CholeskyInverse.CholeskyInPlace(block.AsMemory(0, kb * kb), kb)) return false;
            Upload<double>(scratch, block.AsSpan(0, kb * kb));
            CopyMatrix(diagonal, all.At(k0, k0), kb, kb);
            if (rest == 0) break;
            Timed("dtrsm", () =>
            {
                if (Blas is { } blas) blas.SolvePanel(Address(all.At(k0, k0)), n, Address(all.At(k0 + kb, k0)), n, rest, kb);
                else Dense.SolvePanelRow(rest, VD(a), n, k0 + kb, k0, kb);
            });
            MatMulF64(all.At(k0 + kb, k0), false, all.At(k0 + kb, k0), true, all.At(k0 + kb, k0 + kb), rest, rest, kb, -1, 1);
        }
        Dense.ZeroUpper(Count((long)n * n), VD(a), n);
        return true;
    }

    public void InvertLower(DeviceTensor l, int n, DeviceTensor inverse) => Timed("dtrsm", () =>
    {
        if (Blas is { } blas)
        {
            Dense.Identity(Count((long)n * n), VD(inverse), n);
            blas.InvertLower(Ilgpu(l).Pointer, Ilgpu(inverse).Pointer, n);
        }
        else Dense.InvertLowerColumn(n, VD(l), VD(inverse), n);
    });

    public void ReverseInPlace(DeviceTensor t, long count)
    {
        if (count > 1) Dense.Reverse(Count(count / 2), VD(t), count);
    }

    /// <summary>x's first count values as float32, in a scratch buffer kept for the next call.</summary>
    ArrayView<float> ToF32(DeviceTensor x, long count)
    {
        if (_f32Scratch is null || _f32Scratch.Length < count)
        {
            _f32Scratch?.Dispose();
            _f32Scratch = (IlgpuTensor)Allocate(DType.F32, count, MemoryCategory.Workspace);
        }
        var view = _f32Scratch.View<float>().SubView(0, count);
        Dense.Bf16ToF32(Count(count), V16(x).SubView(0, count), view);
        return view;
    }

    static IntPtr Address(ArrayView<float> view) => view.LoadEffectiveAddressAsPtr();
    static IntPtr Address(MatrixView m) => Ilgpu(m.Tensor).Pointer + (nint)(m.Offset * Require(m.Tensor, DType.F64).DType.SizeInBytes());
    internal static ArrayView<double> VD(DeviceTensor t) => Require(t, DType.F64).View<double>();
}
