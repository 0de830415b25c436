using Qzo.Compute;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Qzo.Tests.Quantization;

namespace Qzo.Tests.Compute;

/// <summary>
/// GPTQ's device operations and the whole solver on the GPU backend (ILGPU's CPU accelerator in CI, CUDA with cuBLAS on
/// the device) against the CPU backend and the reference.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuGptqTests
{
    static double[] RandomDoubles(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextDouble() * 2 - 1).ToArray();
    }

    static DeviceTensor Doubles(IBackend backend, double[] values)
    {
        var t = backend.Allocate(DType.F64, values.Length, MemoryCategory.Workspace);
        backend.Upload<double>(t, values);
        return t;
    }

    static double[] Read(IBackend backend, DeviceTensor t)
    {
        var values = new double[t.Length];
        backend.Download<double>(t, values);
        return values;
    }

    static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])),
                $"{what}[{i}]: GPU {actual[i]}, CPU {expected[i]}");
    }

    [CoversBackendOperation(nameof(IBackend.MatMulF64))]
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Float64ProductsOfSubMatrices(bool transposeA, bool transposeB)
    {
        using var pair = new BackendPair();
        const int m = 19, n = 23, k = 13, stride = 40; // every operand a window of a 40×40 matrix
        var a = RandomDoubles(stride * stride, 1); var b = RandomDoubles(stride * stride, 2); var c = RandomDoubles(stride * stride, 3);
        double[] Run(IBackend backend)
        {
            using var at = Doubles(backend, a); using var bt = Doubles(backend, b); using var ct = Doubles(backend, c);
            backend.MatMulF64(new MatrixView(at, 3 * stride + 2, stride), transposeA, new MatrixView(bt, stride + 5, stride), transposeB,
                              new MatrixView(ct, 7 * stride + 1, stride), m, n, k, alpha: -1.5, beta: 0.5);
            return Read(backend, ct);
        }
        var expected = Run(pair.Cpu);
        AssertClose(expected, Run(pair.Gpu), 1e-13, "c");
        Assert.Equal(c[0], expected[0]); // outside the window: untouched
        Assert.NotEqual(c[7 * stride + 1], expected[7 * stride + 1]);
    }

    [CoversBackendOperation(nameof(IBackend.CholeskyLower))]
    [CoversBackendOperation(nameof(IBackend.InvertLower))]
    [CoversBackendOperation(nameof(IBackend.ReverseInPlace))]
    [Fact]
    public void BlockedCholeskyInverseAndReversal()
    {
        using var pair = new BackendPair();
        const int n = 45; // three blocks of 16 on the simulator, the last one short
        var x = GptqQuantizerTests.CorrelatedInputs(3 * n, n, 11);
        var h = GptqQuantizerTests.Hessian(x, 3 * n, n).Select(v => (double)v).ToArray();
        for (int j = 0; j < n; j++) h[j * n + j] += 0.1;
        double[] Run(IBackend backend, out double[] factor)
        {
            using var a = Doubles(backend, h);
            Assert.True(backend.CholeskyLower(a, n));
            factor = Read(backend, a);
            using var inverse = Doubles(backend, new double[n * n]);
            backend.InvertLower(a, n, inverse);
            backend.ReverseInPlace(inverse, n * n);
            return Read(backend, inverse);
        }
        var expected = Run(pair.Cpu, out var cpuFactor);
        var actual = Run(pair.Gpu, out var gpuFactor);
        AssertClose(cpuFactor, gpuFactor, 1e-12, "L");
        AssertClose(expected, actual, 1e-10, "U");
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) Assert.Equal(0, gpuFactor[i * n + j]);

        var notPositive = h.ToArray();
        notPositive[30 * n + 30] = -1; // in the second block
        using var bad = Doubles(pair.Gpu, notPositive);
        Assert.False(pair.Gpu.CholeskyLower(bad, n));
    }

    [CoversBackendOperation(nameof(IBackend.AccumulateGram))]
    [CoversBackendOperation(nameof(IBackend.QuadraticForm))]
    [CoversBackendOperation(nameof(IBackend.FirstNonFinite))]
    [Fact]
    public void GramMatrixQuadraticFormAndNonFiniteSearch()
    {
        using var pair = new BackendPair();
        const int rows = 50, n = 24;
        var x = BackendPair.RandomBf16(rows * n, 4);
        var (xc, xg) = pair.Activation(x); // bf16 on the GPU, as a linear's input arrives
        using var hc = new HessianAccumulator(pair.Cpu, n);
        using var hg = new HessianAccumulator(pair.Gpu, n);
        hc.Add(xc, 30); hc.Add(x.AsSpan(30 * n), rows - 30);
        hg.Add(xg, 30); hg.Add(x.AsSpan(30 * n), rows - 30);
        var expected = hc.Download();
        var actual = hg.Download();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"H[{i}]: {actual[i]} vs {expected[i]}");

        var w = BackendPair.RandomBf16(8 * n, 5);
        var q = w.Select(v => MathF.Round(v * 8) / 8).ToArray();
        Assert.Equal(hc.RelativeError(w, q, 8), hg.RelativeError(w, q, 8), 6);

        var values = new float[1000];
        Assert.Equal(-1, pair.Gpu.FirstNonFinite(pair.Activation(values, f32: true).Gpu, 1000));
        values[700] = float.NegativeInfinity; values[321] = float.NaN; values[999] = float.PositiveInfinity;
        Assert.Equal(321, pair.Gpu.FirstNonFinite(pair.Activation(values, f32: true).Gpu, 1000));
        Assert.Equal(321, pair.Cpu.FirstNonFinite(pair.Activation(values, f32: true).Cpu, 1000));
    }

    [Fact]
    public void MatrixCopiesOfBothWidths()
    {
        using var pair = new BackendPair();
        var source = RandomDoubles(100, 6);
        using var s = Doubles(pair.Gpu, source);
        using var d = Doubles(pair.Gpu, new double[12]);
        pair.Gpu.CopyMatrix(new MatrixView(s, 11, 10), MatrixView.Of(d, 3), 4, 3);
        var copied = Read(pair.Gpu, d);
        for (int r = 0; r < 4; r++) for (int c = 0; c < 3; c++) Assert.Equal(source[11 + r * 10 + c], copied[r * 3 + c]);

        var floats = BackendPair.RandomBf16(100, 7);
        var (_, fs) = pair.Activation(floats, f32: true);
        var (_, diagonal) = pair.Zeros(10, f32: true);
        pair.Gpu.CopyMatrix(new MatrixView(fs, 0, 11), MatrixView.Of(diagonal, 1), 10, 1);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => floats[i * 11]), pair.Read(diagonal));
    }

    /// <summary>
    /// The whole solver on the GPU backend against the reference. Only the order of the sums in the products and the
    /// blocked factorization differ, by a few ulps of double: a code can change only where w/scale falls within such a
    /// margin of a rounding boundary, which these random matrices never do; the bound below allows for one such tie.
    /// </summary>
    [Theory]
    [InlineData(4, 16, true, false, false, 16)]
    [InlineData(3, -1, false, true, false, 32)]
    [InlineData(2, 32, false, true, true, 16)]
    [InlineData(8, 16, true, true, false, 48)]
    public void SolverMatchesTheReference(int bits, int groupSize, bool sym, bool actOrder, bool staticGroups, int blockSize)
    {
        using var gpu = TestBackends.Gpu();
        var settings = new GptqSettings(bits, groupSize, sym, actOrder, staticGroups, BlockSize: blockSize);
        var (solution, reference) = GptqSolverTests.Solve(gpu, 32, 64, settings, seed: bits * 10 + blockSize, dead: [3, 50]);
        AssertAlmostEqual(reference, solution);
    }

    /// <summary>Asserts the tolerance above; returns what differed, for the device log.</summary>
    public static string AssertAlmostEqual(GptqSolution reference, GptqSolution solution)
    {
        Assert.Equal(reference.Order, solution.Order);
        Assert.Equal(reference.GIdx, solution.GIdx);
        int codes = reference.Codes.Zip(solution.Codes).Count(p => p.First != p.Second);
        int far = reference.Codes.Zip(solution.Codes).Count(p => Math.Abs(p.First - p.Second) > 1);
        int scales = reference.Scales.Zip(solution.Scales).Count(p => p.First != p.Second);
        int zeros = reference.Zeros.Zip(solution.Zeros).Count(p => p.First != p.Second);
        string summary = $"{codes} of {reference.Codes.Length} codes differ ({far} by more than one step), " +
            $"{scales} of {reference.Scales.Length} scales, {zeros} zeros";
        Assert.True(codes <= reference.Codes.Length / 10_000 + 1 && far == 0 && scales <= reference.Scales.Length / 1000 + 1
            && zeros <= reference.Zeros.Length / 1000 + 1, summary);
        return summary;
    }
}
