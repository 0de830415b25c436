using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Quantization;

/// <summary>
/// Σ xxᵀ over the input rows x ∈ R^columns a linear sees during calibration (GPTQ's H up to the factor 2/n, which
/// changes nothing in the algorithm), accumulated in float32 as GPTQ accumulates it, on a backend (CUDA: cuBLAS
/// fp32, no TF32), where it stays across calibration batches.
/// </summary>
public sealed class HessianAccumulator : IDisposable
{
    readonly IBackend _backend;

    public HessianAccumulator(IBackend backend, int columns)
    {
        if (columns <= 0) throw new ArgumentOutOfRangeException(nameof(columns));
        _backend = backend;
        Columns = columns;
        Sum = backend.Allocate(DType.F32, (long)columns * columns, MemoryCategory.Workspace);
        var zeros = new float[Math.Min(Sum.Length, 1 << 20)];
        for (long at = 0; at < Sum.Length; at += zeros.Length) backend.Upload<float>(Sum,
            zeros.AsSpan(0, (int)Math.Min(zeros.Length, Sum.Length - at)), at);
    }

    public int Columns { get; }
    /// <summary>F32 [columns, columns] on the backend.</summary>
    public DeviceTensor Sum { get; }
    /// <summary>Input rows (tokens) accumulated so far.</summary>
    public long Rows { get; private set; }

    /// <param name="x">[rows, columns] in the backend's compute type (or F32), as a linear receives it</param>
    public void Add(DeviceTensor x, int rows)
    {
        if (x.Length < (long)rows * Columns) throw new ArgumentException($"x has {x.Length} elements, fewer than {rows}·{Columns}",
            nameof(x));
        _backend.AccumulateGram(x, rows, Columns, Sum);
        Rows += rows;
    }

    /// <param name="x">row-major [rows, columns] on the host</param>
    public void Add(ReadOnlySpan<float> x, int rows)
    {
        if (x.Length < (long)rows * Columns) throw new ArgumentException($"x has {x.Length} elements, fewer than {rows}·{Columns}",
            nameof(x));
        using var device = Upload(x[..(rows * Columns)]);
        Add(device, rows);
    }

    /// <summary>The sum on the host, row-major [columns, columns].</summary>
    public float[] Download()
    {
        var values = new float[(long)Columns * Columns];
        _backend.Download<float>(Sum, values);
        return values;
    }

    /// <summary>
    /// Σ_o dₒᵀ·H·dₒ over the rows dₒ of <paramref name="d"/> [rows, columns]: ‖X·dᵀ‖² for the accumulated inputs X.
    /// </summary>
    public double QuadraticForm(ReadOnlySpan<float> d, int rows)
    {
        if (d.Length != (long)rows * Columns) throw new ArgumentException($"d has {d.Length} elements, expected {rows}·{Columns}",
            nameof(d));
        using var device = Upload(d);
        return _backend.QuadraticForm(Sum, device, rows, Columns);
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

    DeviceTensor Upload(ReadOnlySpan<float> values)
    {
        var t = _backend.Allocate(DType.F32, values.Length, MemoryCategory.Workspace);
        _backend.Upload(t, values);
        return t;
    }

    public void Dispose() => Sum.Dispose();
}
