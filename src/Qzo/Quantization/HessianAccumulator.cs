using Qzo.Compute.Cpu;

namespace Qzo.Quantization;

/// <summary>
/// Σ xxᵀ over the input rows x ∈ R^columns a linear sees during calibration (GPTQ's H up to the factor 2/n, which
/// changes nothing in the algorithm), accumulated in float32 with the CPU SGEMM as GPTQ accumulates it in fp32.
/// </summary>
public sealed class HessianAccumulator(int columns)
{
    const int RowsPerChunk = 1024;
    float[]? _transposed;

    public int Columns { get; } = columns > 0 ? columns : throw new ArgumentOutOfRangeException(nameof(columns));
    /// <summary>Row-major [columns, columns].</summary>
    public float[] Sum { get; } = new float[(long)columns * columns];
    /// <summary>Input rows (tokens) accumulated so far.</summary>
    public long Rows { get; private set; }

    /// <param name="x">row-major [rows, columns]</param>
    public void Add(ReadOnlySpan<float> x, int rows)
    {
        if (x.Length < (long)rows * Columns) throw new ArgumentException($"x has {x.Length} elements, fewer than {rows}·{Columns}", nameof(x));
        int n = Columns;
        _transposed ??= new float[(long)Math.Min(RowsPerChunk, Math.Max(rows, 1)) * n];
        for (int r0 = 0; r0 < rows; r0 += RowsPerChunk)
        {
            int count = Math.Min(RowsPerChunk, rows - r0);
            if (_transposed.Length < (long)count * n) _transposed = new float[(long)count * n];
            var chunk = x.Slice(r0 * n, count * n);
            for (int r = 0; r < count; r++)
                for (int c = 0; c < n; c++) _transposed[c * count + r] = chunk[r * n + c];
            Sgemm.MatMul(_transposed, chunk, Sum, n, n, count, accumulate: true); // [n, count] · [count, n]
        }
        Rows += rows;
    }

    /// <summary>Σ_o dₒᵀ·H·dₒ over the rows dₒ of <paramref name="d"/> [rows, columns]: ‖X·dᵀ‖² for the accumulated inputs X.</summary>
    public double QuadraticForm(ReadOnlySpan<float> d, int rows)
    {
        if (d.Length != (long)rows * Columns) throw new ArgumentException($"d has {d.Length} elements, expected {rows}·{Columns}", nameof(d));
        var product = new float[d.Length];
        Sgemm.MatMul(d, Sum, product, rows, Columns, Columns);
        double total = 0;
        for (int i = 0; i < d.Length; i++) total += (double)product[i] * d[i];
        return total;
    }

    /// <summary>
    /// ‖X·Wᵀ − X·Ŵᵀ‖ / ‖X·Wᵀ‖ (Frobenius norms) over the accumulated inputs X (0 when X·Wᵀ is 0): how much of the
    /// layer's output the quantized weights <paramref name="quantized"/> get wrong.
    /// </summary>
    public double RelativeError(ReadOnlySpan<float> weight, ReadOnlySpan<float> quantized, int rows)
    {
        if (quantized.Length != weight.Length) throw new ArgumentException("weights of different sizes", nameof(quantized));
        var delta = new float[weight.Length];
        for (int i = 0; i < delta.Length; i++) delta[i] = weight[i] - quantized[i];
        double reference = QuadraticForm(weight, rows);
        return reference > 0 ? Math.Sqrt(Math.Max(0, QuadraticForm(delta, rows)) / reference) : 0;
    }
}
