using System.Numerics.Tensors;
using Qzo.Numerics;

namespace Qzo.Quantization.Gptq;

/// <summary>The settings of GPTQ on one matrix (docs/formats.md §4, "The GPTQ algorithm").</summary>
/// <param name="GroupSize">inputs per group; −1 = one group over the whole input</param>
/// <param name="ActOrder">desc_act: process the inputs by descending diag(H)</param>
/// <param name="StaticGroups">with act-order, fix every group's grid from the unmodified weights, in the original input order</param>
/// <param name="DampPercent">H += DampPercent · mean(diag H) · I before the inversion</param>
/// <param name="BlockSize">columns per lazy-update block</param>
public sealed record GptqSettings(int Bits, int GroupSize, bool Sym, bool ActOrder = false, bool StaticGroups = false,
                                  double DampPercent = 0.01, int BlockSize = 128)
{
    public static GptqSettings From(GptqConfig config, int blockSize = 128) =>
        new(config.Bits, config.GroupSize, config.Sym, config.DescAct, config.StaticGroups, config.DampPercent, blockSize);
}

/// <summary>
/// One matrix quantized by GPTQ, in the checkpoint's terms: codes, fp16 scales and integer zero points per
/// (group, output), and g_idx. Group k of an act-order result holds the k-th run of inputs in processing order.
/// </summary>
public sealed class GptqSolution
{
    public required int InFeatures { get; init; }
    public required int OutFeatures { get; init; }
    public required int Bits { get; init; }
    public required int Groups { get; init; }
    /// <summary>[in, out], each in [0, 2^bits): qweight's unpacked layout.</summary>
    public required int[] Codes { get; init; }
    /// <summary>[groups, out], as stored.</summary>
    public required Half[] Scales { get; init; }
    /// <summary>[groups, out], the true zero points (before any v1 offset).</summary>
    public required int[] Zeros { get; init; }
    /// <summary>[in]: the group of each input.</summary>
    public required int[] GIdx { get; init; }
    /// <summary>The order the inputs were quantized in (the identity without act-order).</summary>
    public required int[] Order { get; init; }

    /// <summary>W[o, i] = scale · (q − zero), row-major [out, in] float32 (exact: an fp16 scale times a small integer).</summary>
    public float[] Dequantize()
    {
        var w = new float[(long)OutFeatures * InFeatures];
        Parallel.For(0, OutFeatures, o =>
        {
            for (int i = 0; i < InFeatures; i++)
            {
                int gi = GIdx[i] * OutFeatures + o;
                w[(long)o * InFeatures + i] = (float)Scales[gi] * (Codes[(long)i * OutFeatures + o] - Zeros[gi]);
            }
        });
        return w;
    }

    /// <summary>The packed tensors (qweight, qzeros, scales, g_idx) in <paramref name="format"/>'s zero convention.</summary>
    public GptqLinearTensors Pack(GptqCheckpointFormat format) => new(
        GptqPacking.PackQWeight(Codes, InFeatures, OutFeatures, Bits),
        GptqPacking.PackQZeros(Zeros, Groups, OutFeatures, Bits, format),
        Scales, GIdx, InFeatures, OutFeatures, Groups);
}

/// <summary>
/// GPTQ (Frantar et al. 2022) on one linear's weight W [out, in] given H = Σ xxᵀ over the calibration inputs x of the
/// layer, step for step as AutoGPTQ's <c>GPTQ.fasterquant</c>: dead inputs (H[j,j] = 0) get H[j,j] = 1 and a zero
/// weight column; act-order permutes by descending diag(H) (ties keep the input order); H += damp·mean(diag H)·I;
/// U = upper Cholesky factor of H⁻¹; columns are quantized in blocks, each column's error err = (w − q)/U[j,j] is
/// pushed onto the block's later columns at once and onto the later blocks lazily (W[:, i2:] −= Err·U[block, i2:]);
/// a group's grid is found when the group starts, from W as the earlier blocks left it (<see cref="GptqGrid"/>,
/// AutoGPTQ's <c>find_params</c>); with group size −1 from the weights as given, before dead columns are zeroed; with
/// static groups from the weights after dead-column zeroing, in the original order. Unlike AutoGPTQ, which finds codes
/// with the fp32 scale and re-rounds them against the fp16 scale when packing, codes and the propagated error use the
/// stored fp16 scale, so the checkpoint holds exactly the weights the algorithm compensated for. All of it runs in
/// double; output rows are independent given U and run in parallel. This is the plain-CPU reference; <c>qzo quantize</c>
/// runs the same steps on its backend with <see cref="GptqSolver"/> (bit for bit the same on the CPU backend).
/// </summary>
public static class GptqQuantizer
{
    const int RowsPerTile = 8;
    const int LazyColumnChunk = 512;

    /// <param name="weight">row-major [outFeatures, inFeatures]</param>
    /// <param name="hessian">row-major [inFeatures, inFeatures]: Σ xxᵀ (any positive multiple; GPTQ's 2/n·Σ xxᵀ gives the same
    /// result); symmetrized here</param>
    public static GptqSolution Quantize(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> hessian,
        GptqSettings s)
    {
        Validate(weight.Length, hessian.Length, outFeatures, inFeatures, s);

        int rows = outFeatures, n = inFeatures, maxq = (1 << s.Bits) - 1;
        int g = GptqPacking.EffectiveGroupSize(n, s.GroupSize);
        int groups = GptqPacking.GroupCount(n, s.GroupSize);
        bool wholeRow = g >= n;                       // one group: its grid comes from the weights as given
        bool staticGroups = s.StaticGroups && !wholeRow;
        var scales = new Half[groups * rows];
        var steps = new double[groups * rows];        // the stored scales, as the codes are computed with them
        var zeros = new int[groups * rows];

        var w = new double[(long)rows * n];
        for (long k = 0; k < w.Length; k++) w[k] = weight[(int)k];
        if (wholeRow) Parallel.For(0, rows, r => SetGrid(w.AsSpan(r * n, n), r, 0, rows, s, scales, steps, zeros));

        var h = new double[(long)n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double v = 0.5 * ((double)hessian[i * n + j] + hessian[j * n + i]);
                if (!double.IsFinite(v)) throw new QzoException(
                    $"the calibration Hessian has a non-finite entry at inputs ({i}, {j}): the activations reaching this linear " +
                    "overflowed");
                h[(long)i * n + j] = v;
            }
        for (int j = 0; j < n; j++)
        {
            if (h[(long)j * n + j] != 0) continue;
            h[(long)j * n + j] = 1; // a dead input: no calibration token used it, so its weights cannot matter there
            for (int r = 0; r < rows; r++) w[(long)r * n + j] = 0;
        }
        if (staticGroups)
            Parallel.For(0, rows, r =>
            {
                for (int k = 0; k < groups; k++) SetGrid(w.AsSpan(r * n + k * g, Math.Min(g, n - k * g)), r, k, rows, s, scales, steps,
                    zeros);
            });

        var order = Enumerable.Range(0, n).ToArray();
        if (s.ActOrder)
        {
            var diagonal = order.Select(j => h[(long)j * n + j]).ToArray();
            order = order.OrderByDescending(j => diagonal[j]).ToArray(); // LINQ's sort is stable: ties keep the input order
            w = PermuteColumns(w, rows, n, order);
            h = PermuteSymmetric(h, n, order);
        }

        double mean = 0;
        for (int j = 0; j < n; j++) mean += h[(long)j * n + j];
        double damp = s.DampPercent * mean / n;
        for (int j = 0; j < n; j++) h[(long)j * n + j] += damp;
        var u = CholeskyInverse.UpperFactorOfInverse(h, n)
            ?? throw new QzoException(
                $"the damped calibration Hessian ({n}×{n}) is not positive definite; raise --damp (now {s.DampPercent})");
        h = null!;

        // group of processed column j (j in processing order)
        var groupOf = new int[n];
        for (int j = 0; j < n; j++) groupOf[j] = wholeRow ? 0 : staticGroups ? order[j] / g : j / g;

        var codes = new int[(long)n * rows];
        int tiles = (rows + RowsPerTile - 1) / RowsPerTile;
        Parallel.For(0, tiles, tile =>
        {
            int r0 = tile * RowsPerTile, r1 = Math.Min(rows, r0 + RowsPerTile), count = r1 - r0;
            int block = Math.Min(s.BlockSize, n);
            var w1 = new double[block];
            var err = new double[count * block];
            for (int i1 = 0; i1 < n; i1 += s.BlockSize)
            {
                int i2 = Math.Min(i1 + s.BlockSize, n), width = i2 - i1;
                for (int r = r0; r < r1; r++)
                {
                    var row = w.AsSpan(r * n, n);
                    row.Slice(i1, width).CopyTo(w1);
                    var rowErr = err.AsSpan((r - r0) * block, width);
                    for (int c = 0; c < width; c++)
                    {
                        int j = i1 + c;
                        if (!wholeRow && !staticGroups && j % g == 0)
                            // W as earlier blocks left it
                            SetGrid(row.Slice(j, Math.Min(g, n - j)), r, j / g, rows, s, scales, steps, zeros);
                        int gi = groupOf[j] * rows + r;
                        double step = steps[gi], x = w1[c];
                        int q = (int)Math.Clamp(Math.Round(x / step) + zeros[gi], 0, maxq);
                        codes[(long)order[j] * rows + r] = q;
                        double e = (x - step * (q - zeros[gi])) / u[(long)j * n + j];
                        rowErr[c] = e;
                        if (c + 1 < width)
                            TensorPrimitives.MultiplyAdd<double>(u.AsSpan(j * n + j + 1, width - c - 1), -e,
                                w1.AsSpan(c + 1, width - c - 1), w1.AsSpan(c + 1, width - c - 1));
                    }
                }
                // Lazy update of the later blocks: W[tile, i2:] −= Err[tile, block] · U[block, i2:], a column chunk at a time
                // so the chunk of U stays in cache across the tile's rows.
                for (int c0 = i2; c0 < n; c0 += LazyColumnChunk)
                {
                    int len = Math.Min(LazyColumnChunk, n - c0);
                    for (int r = r0; r < r1; r++)
                    {
                        var target = w.AsSpan(r * n + c0, len);
                        var rowErr = err.AsSpan((r - r0) * block, width);
                        for (int c = 0; c < width; c++)
                            if (rowErr[c] != 0) TensorPrimitives.MultiplyAdd<double>(u.AsSpan((i1 + c) * n + c0, len), -rowErr[c], target,
                                target);
                    }
                }
            }
        });

        var gIdx = new int[n];
        for (int j = 0; j < n; j++) gIdx[order[j]] = groupOf[j];
        return new GptqSolution
        {
            InFeatures = n, OutFeatures = rows, Bits = s.Bits, Groups = groups,
            Codes = codes, Scales = scales, Zeros = zeros, GIdx = gIdx, Order = order,
        };
    }

    /// <summary>The checks both implementations make before starting (shapes, packable sizes, settings).</summary>
    internal static void Validate(long weightLength, long hessianLength, int outFeatures, int inFeatures, GptqSettings s)
    {
        GptqPacking.CheckBits(s.Bits);
        GptqPacking.CheckPackable(inFeatures, s.Bits, "in_features", "qweight");
        GptqPacking.CheckPackable(outFeatures, s.Bits, "out_features", "qzeros");
        if (weightLength != (long)outFeatures * inFeatures)
            throw new ArgumentException($"weight has {weightLength} elements, expected {outFeatures}·{inFeatures}", "weight");
        if (hessianLength != (long)inFeatures * inFeatures)
            throw new ArgumentException($"hessian has {hessianLength} elements, expected {inFeatures}²", "hessian");
        if (s.BlockSize <= 0) throw new QzoException($"GPTQ block size must be positive, got {s.BlockSize}");
        if (!(s.DampPercent > 0 && s.DampPercent < 1)) throw new QzoException($"GPTQ damp_percent must be in (0, 1), got {s.DampPercent}");
    }

    /// <summary>
    /// Grid of group <paramref name="k"/> of output <paramref name="r"/> from its values (find_params in fp32, as GPTQ runs it).
    /// </summary>
    static void SetGrid(ReadOnlySpan<double> values, int r, int k, int rows, GptqSettings s, Half[] scales, double[] steps, int[] zeros)
    {
        Span<float> group = values.Length <= 1024 ? stackalloc float[values.Length] : new float[values.Length];
        for (int i = 0; i < values.Length; i++) group[i] = (float)values[i];
        float scale; int zero;
        try { (scale, zero) = GptqGrid.FindParams(group, s.Bits, s.Sym); }
        catch (QzoException e) { throw new QzoException($"output row {r}, group {k}: {e.Message}", e); }
        var stored = GptqGrid.ToStoredScale(scale);
        scales[k * rows + r] = stored;
        steps[k * rows + r] = (double)(float)stored;
        zeros[k * rows + r] = zero;
    }

    static double[] PermuteColumns(double[] w, int rows, int n, int[] order)
    {
        var result = new double[w.Length];
        Parallel.For(0, rows, r =>
        {
            for (int j = 0; j < n; j++) result[(long)r * n + j] = w[(long)r * n + order[j]];
        });
        return result;
    }

    static double[] PermuteSymmetric(double[] h, int n, int[] order)
    {
        var result = new double[h.Length];
        Parallel.For(0, n, i =>
        {
            long source = (long)order[i] * n;
            for (int j = 0; j < n; j++) result[(long)i * n + j] = h[source + order[j]];
        });
        return result;
    }
}
