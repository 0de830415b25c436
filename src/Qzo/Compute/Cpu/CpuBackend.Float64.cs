using System.Numerics.Tensors;
using Qzo.Numerics;

namespace Qzo.Compute.Cpu;

internal sealed partial class CpuBackend
{
    const int GramRowsPerChunk = 1024;

    public void AccumulateGram(DeviceTensor x, int rows, int n, DeviceTensor sum)
    {
        var input = F(x); var total = F(sum);
        if (input.Length < (long)rows * n) throw new ArgumentException($"x has {input.Length} elements, fewer than {rows}·{n}", nameof(x));
        var transposed = new float[(long)Math.Min(GramRowsPerChunk, Math.Max(rows, 1)) * n];
        for (int r0 = 0; r0 < rows; r0 += GramRowsPerChunk)
        {
            int count = Math.Min(GramRowsPerChunk, rows - r0);
            var chunk = input.Slice(r0 * n, count * n);
            for (int r = 0; r < count; r++)
                for (int c = 0; c < n; c++) transposed[c * count + r] = chunk[r * n + c];
            Sgemm.MatMul(transposed, chunk, total, n, n, count, accumulate: true); // [n, count] · [count, n]
        }
    }

    public double QuadraticForm(DeviceTensor h, DeviceTensor d, int rows, int n)
    {
        var values = F(d)[..(rows * n)];
        var product = new float[values.Length];
        Sgemm.MatMul(values, F(h), product, rows, n, n);
        double total = 0;
        for (int i = 0; i < values.Length; i++) total += (double)product[i] * values[i];
        return total;
    }

    public long FirstNonFinite(DeviceTensor t, long count)
    {
        var values = F(t)[..checked((int)count)];
        for (int i = 0; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    public unsafe void CopyMatrix(MatrixView source, MatrixView destination, int rows, int columns)
    {
        if (source.Tensor.DType != destination.Tensor.DType) throw new ArgumentException("copy between different element types");
        MatrixBounds.Check(source, rows, columns, nameof(source));
        MatrixBounds.Check(destination, rows, columns, nameof(destination));
        int size = source.Tensor.DType.SizeInBytes();
        byte* from = (byte*)Cpu(source.Tensor).Pointer, to = (byte*)Cpu(destination.Tensor).Pointer;
        for (int r = 0; r < rows; r++)
            Buffer.MemoryCopy(from + (source.Offset + (long)r * source.Stride) * size,
                              to + (destination.Offset + (long)r * destination.Stride) * size, (long)columns * size, (long)columns * size);
    }

    const int RowsPerTile = 8, ColumnsPerChunk = 512;

    /// <summary>
    /// Rows of c in parallel tiles of 8. Without transposed b, each output row is built by axpys over rows of b, in
    /// chunks of 512 columns so the chunk of b stays in cache across the tile (GPTQ's lazy updates: k = 128).
    /// </summary>
    public void MatMulF64(MatrixView a, bool transposeA, MatrixView b, bool transposeB, MatrixView c, int m, int n, int k, double alpha,
        double beta)
    {
        var at = RequireType(a.Tensor, DType.F64); var bt = RequireType(b.Tensor, DType.F64); var ct = RequireType(c.Tensor, DType.F64);
        if (m == 0 || n == 0) return;
        int tiles = (m + RowsPerTile - 1) / RowsPerTile;
        ParallelRows(tiles, (long)m * n * Math.Max(k, 1), tile =>
        {
            var av = at.Span<double>(); var bv = bt.Span<double>(); var cv = ct.Span<double>();
            int r0 = tile * RowsPerTile, r1 = Math.Min(m, r0 + RowsPerTile);
            var row = new double[k];
            for (int c0 = 0; c0 < n; c0 += ColumnsPerChunk)
            {
                int width = Math.Min(ColumnsPerChunk, n - c0);
                for (int i = r0; i < r1; i++)
                {
                    for (int p = 0; p < k; p++) row[p] =
                        av[(int)(a.Offset + (transposeA ? (long)p * a.Stride + i : (long)i * a.Stride + p))];
                    var target = cv.Slice((int)(c.Offset + (long)i * c.Stride + c0), width);
                    if (beta == 0) target.Clear();
                    else if (beta != 1) TensorPrimitives.Multiply(target, beta, target);
                    if (!transposeB)
                        for (int p = 0; p < k; p++)
                        {
                            if (row[p] == 0) continue;
                            var source = bv.Slice((int)(b.Offset + (long)p * b.Stride + c0), width);
                            TensorPrimitives.MultiplyAdd(source, alpha * row[p], target, target);
                        }
                    else
                        for (int j = 0; j < width; j++)
                            target[j] += alpha * TensorPrimitives.Dot<double>(row, bv.Slice((int)(b.Offset + (long)(c0 + j) * b.Stride),
                                k));
                }
            }
        });
    }

    public bool CholeskyLower(DeviceTensor a, int n) => CholeskyInverse.CholeskyInPlace(RequireType(a, DType.F64).Memory<double>(), n);

    public void InvertLower(DeviceTensor l, int n, DeviceTensor inverse) =>
        CholeskyInverse.LowerInverse(RequireType(l, DType.F64).Memory<double>(), n, RequireType(inverse, DType.F64).Memory<double>());

    public void ReverseInPlace(DeviceTensor t, long count) => RequireType(t, DType.F64).Span<double>()[..checked((int)count)].Reverse();
}
