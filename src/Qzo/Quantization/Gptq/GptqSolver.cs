using Qzo.Compute;
using Qzo.Numerics;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.Quantization.Gptq;

/// <summary>
/// GPTQ on a backend (CUDA when present, the CPU otherwise): <see cref="GptqQuantizer"/>'s algorithm step for step,
/// with H, U and W in float64 on the device. The host does what is O(n): dead inputs and the act-order permutation
/// from diag(H), the damping. The device does the rest:
/// <list type="number">
/// <item>H' = the damped Hessian in reversed processing order (<see cref="IGptqKernels.Hessian"/>): with J the index
/// reversal, J·H·J = L·Lᵀ gives U = J·L⁻¹·J, the upper Cholesky factor of H⁻¹ (see <see cref="CholeskyInverse"/>),
/// from one Cholesky factorization (<see cref="IBackend.CholeskyLower"/>), one triangular inverse and a reversal;</item>
/// <item>W in processing order, dead inputs zeroed; the grids fixed up front (group size −1, static groups);</item>
/// <item>per block of columns, the column loop with every output row in parallel (<see cref="IGptqKernels.Block"/>),
/// then the lazy update of the later columns as one product, W[:, i2:] −= Errᵀ·U[block, i2:]
/// (<see cref="IBackend.MatMulF64"/>).</item>
/// </list>
/// On the CPU backend the operations are GptqQuantizer's, in the same order: the same codes, scales and zeros, bit for
/// bit. On a GPU only the order of the sums in the products and the factorization differ.
/// </summary>
public static class GptqSolver
{
    /// <param name="weight">row-major [outFeatures, inFeatures]</param>
    /// <param name="hessian">F32 [inFeatures, inFeatures] on <paramref name="backend"/>: Σ xxᵀ (any positive multiple); symmetrized
    /// here</param>
    public static GptqSolution Quantize(IBackend backend, ReadOnlySpan<float> weight, int outFeatures, int inFeatures, DeviceTensor hessian,
        GptqSettings s)
    {
        GptqQuantizer.Validate(weight.Length, hessian.Length, outFeatures, inFeatures, s);
        int rows = outFeatures, n = inFeatures;
        for (int k = 0; k < weight.Length; k++)
            if (!float.IsFinite(weight[k])) throw new QzoException(
                $"output row {k / n}: cannot quantize a non-finite weight ({weight[k]}) at input {k % n}");
        long bad = backend.FirstNonFinite(hessian, (long)n * n);
        if (bad >= 0) throw new QzoException(
            $"the calibration Hessian has a non-finite entry at inputs ({bad / n}, {bad % n}): the activations reaching this linear " +
            "overflowed");

        int g = GptqPacking.EffectiveGroupSize(n, s.GroupSize);
        int groups = GptqPacking.GroupCount(n, s.GroupSize);
        bool wholeRow = g >= n;                        // one group: its grid comes from the weights as given
        bool staticGroups = s.StaticGroups && !wholeRow;

        var diagonal = new float[n];
        using (var d = backend.Allocate(DType.F32, n, MemoryCategory.Workspace))
        {
            backend.CopyMatrix(new MatrixView(hessian, 0, n + 1), MatrixView.Of(d, 1), n, 1);
            backend.Download<float>(d, diagonal);
        }
        var dead = diagonal.Select(v => v == 0 ? 1 : 0).ToArray(); // no calibration token used the input: its weights cannot matter there
        var fixedDiagonal = diagonal.Select((v, j) => dead[j] != 0 ? 1.0 : v).ToArray();
        var order = Enumerable.Range(0, n).ToArray();
        if (s.ActOrder) order = order.OrderByDescending(j => fixedDiagonal[j]).ToArray(); // stable: ties keep the input order
        double mean = 0;
        for (int j = 0; j < n; j++) mean += fixedDiagonal[order[j]]; // summed in processing order, as GptqQuantizer does
        double damp = s.DampPercent * mean / n;
        var groupOf = new int[n];
        for (int j = 0; j < n; j++) groupOf[j] = wholeRow ? 0 : staticGroups ? order[j] / g : j / g;

        using var inputs = Upload(backend, order);
        using var deadInputs = Upload(backend, dead);
        using var groupOfColumn = Upload(backend, groupOf);
        var u = backend.Allocate(DType.F64, (long)n * n, MemoryCategory.Workspace);
        try
        {
            using (var reversed = Upload(backend, Enumerable.Reverse(order).ToArray()))
            using (var h = backend.Allocate(DType.F64, (long)n * n, MemoryCategory.Workspace))
            {
                GptqKernels.For(backend).Hessian(hessian, reversed, deadInputs, n, damp, h);
                if (!backend.CholeskyLower(h, n))
                    throw new QzoException(
                        $"the damped calibration Hessian ({n}×{n}) is not positive definite; raise --damp (now {s.DampPercent})");
                backend.InvertLower(h, n, u);
            }
            backend.ReverseInPlace(u, (long)n * n);
            return Solve(backend, weight, rows, n, u, inputs, deadInputs, groupOfColumn, order, groupOf, s, g, groups, wholeRow,
                staticGroups);
        }
        finally { u.Dispose(); }
    }

    static GptqSolution Solve(IBackend backend, ReadOnlySpan<float> weight, int rows, int n, DeviceTensor u, DeviceTensor inputs,
        DeviceTensor dead,
                              DeviceTensor groupOfColumn, int[] order, int[] groupOf, GptqSettings s, int g, int groups, bool wholeRow,
                              bool staticGroups)
    {
        var shape = new GptqStepShape(rows, n, wholeRow ? n : g, s.Bits, s.Sym);
        var steps = GptqKernels.For(backend);
        using var scales = backend.Allocate(DType.F32, (long)groups * rows, MemoryCategory.Workspace);
        using var zeros = backend.Allocate(DType.I32, (long)groups * rows, MemoryCategory.Workspace);
        using var status = Upload(backend, [int.MaxValue]);
        using var w = backend.Allocate(DType.F64, (long)rows * n, MemoryCategory.Workspace);
        using (var original = backend.Allocate(DType.F32, (long)rows * n, MemoryCategory.Workspace))
        {
            backend.Upload(original, weight);
            if (wholeRow || staticGroups) steps.Grids(original, dead, shape, zeroDead: staticGroups, scales, zeros, status);
            steps.Weights(original, inputs, dead, rows, n, w);
        }

        using var codes = backend.Allocate(DType.I32, (long)n * rows, MemoryCategory.Workspace);
        using var err = backend.Allocate(DType.F64, (long)Math.Min(s.BlockSize, n) * rows, MemoryCategory.Workspace);
        for (int i1 = 0; i1 < n; i1 += s.BlockSize)
        {
            int i2 = Math.Min(i1 + s.BlockSize, n), width = i2 - i1;
            steps.Block(w, u, inputs, groupOfColumn, shape, i1, width, findGrids: !wholeRow && !staticGroups, scales, zeros, codes, err,
                        status);
            if (i2 < n)
                backend.MatMulF64(MatrixView.Of(err, rows), transposeA: true, new MatrixView(u, (long)i1 * n + i2, n), transposeB: false,
                                  new MatrixView(w, i2, n), rows, n - i2, width, alpha: -1, beta: 1);
        }

        var first = new int[1];
        backend.Download<int>(status, first);
        if (first[0] != int.MaxValue)
            throw new QzoException(
                $"output row {first[0] % rows}, group {first[0] / rows}: the quantization scale does not fit in fp16 (largest 65504)");
        var codeValues = new int[(long)n * rows];
        var scaleValues = new float[(long)groups * rows];
        var zeroValues = new int[(long)groups * rows];
        backend.Download<int>(codes, codeValues);
        backend.Download<float>(scales, scaleValues);
        backend.Download<int>(zeros, zeroValues);
        var gIdx = new int[n];
        for (int j = 0; j < n; j++) gIdx[order[j]] = groupOf[j];
        return new GptqSolution
        {
            InFeatures = n, OutFeatures = rows, Bits = s.Bits, Groups = groups,
            Codes = codeValues, Scales = scaleValues.Select(v => (Half)v).ToArray(), Zeros = zeroValues, GIdx = gIdx, Order = order,
        };
    }

    static DeviceTensor Upload(IBackend backend, int[] values)
    {
        var t = backend.Allocate(DType.I32, values.Length, MemoryCategory.Workspace);
        backend.Upload<int>(t, values);
        return t;
    }
}
