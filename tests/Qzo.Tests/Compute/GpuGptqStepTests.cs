using Qzo.Compute;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.Tests.Compute;

/// <summary>
/// GPTQ's solver steps one at a time, on the GPU backend (ILGPU's CPU accelerator) against the CPU backend, from the same
/// inputs. Gathers and grids are exact; the column loop differs from the CPU only in FMA contraction, a few ulps of double.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuGptqStepTests
{
    const int Rows = 24, N = 64;
    static readonly int[] Order = Enumerable.Range(0, N).Select(i => (i * 37 + 11) % N).ToArray(); // a permutation
    static readonly int[] Dead = Enumerable.Range(0, N).Select(i => i is 5 or 40 ? 1 : 0).ToArray();

    static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])),
                $"{what}[{i}]: GPU {actual[i]}, CPU {expected[i]}");
    }

    [CoversBackendOperation(typeof(IGptqKernels), nameof(IGptqKernels.Hessian))]
    [CoversBackendOperation(typeof(IGptqKernels), nameof(IGptqKernels.Weights))]
    [Fact]
    public void HessianAndWeightsGatherExactly()
    {
        using var pair = new BackendPair();
        var (sc, sg) = pair.Activation(BackendPair.RandomBf16(N * N, 41, 3f), f32: true);
        var (ic, ig) = pair.Ints(Order); var (dc, dg) = pair.Ints(Dead);
        var (hc, hg) = pair.Doubles(new double[N * N]);
        GptqKernels.For(pair.Cpu).Hessian(sc, ic, dc, N, 0.25, hc);
        GptqKernels.For(pair.Gpu).Hessian(sg, ig, dg, N, 0.25, hg);
        Assert.Equal(pair.ReadDoubles(hc), pair.ReadDoubles(hg));

        var (wc, wg) = pair.Activation(BackendPair.RandomBf16(Rows * N, 42), f32: true);
        var (oc, og) = pair.Doubles(new double[Rows * N]);
        GptqKernels.For(pair.Cpu).Weights(wc, ic, dc, Rows, N, oc);
        GptqKernels.For(pair.Gpu).Weights(wg, ig, dg, Rows, N, og);
        Assert.Equal(pair.ReadDoubles(oc), pair.ReadDoubles(og));
    }

    [CoversBackendOperation(typeof(IGptqKernels), nameof(IGptqKernels.Grids))]
    [CoversBackendOperation(typeof(IGptqKernels), nameof(IGptqKernels.Block))]
    [Theory]
    [InlineData(4, false, false)]  // grids found in the column loop
    [InlineData(3, true, true)]    // grids from Grids (static groups, dead inputs zeroed), symmetric
    [InlineData(2, false, true)]
    public void GridsAndTheColumnLoopMatchTheCpu(int bits, bool sym, bool gridsFirst)
    {
        using var pair = new BackendPair();
        var shape = new GptqStepShape(Rows, N, GroupSize: 16, bits, sym);
        var weight = BackendPair.RandomBf16(Rows * N, 43, 0.2f);
        var (wc, wg) = pair.Activation(weight, f32: true);
        var (ic, ig) = pair.Ints(Order); var (dc, dg) = pair.Ints(Dead);
        var (gc, gg) = pair.Ints(Enumerable.Range(0, N).Select(j => j / shape.GroupSize).ToArray());
        var (scC, scG) = pair.Zeros(shape.Groups * Rows, f32: true);
        var (zc, zg) = pair.Ints(new int[shape.Groups * Rows]);
        var (stC, stG) = pair.Ints([int.MaxValue]);
        var (xc, xg) = pair.Doubles(weight.Select(v => (double)v).ToArray());
        var (uc, ug) = pair.Doubles(UpperFactor(N, 44));
        var (cc, cg) = pair.Ints(new int[N * Rows]);
        const int start = 16, width = 32;
        var (ec, eg) = pair.Doubles(new double[width * Rows]);
        if (gridsFirst)
        {
            GptqKernels.For(pair.Cpu).Grids(wc, dc, shape, zeroDead: true, scC, zc, stC);
            GptqKernels.For(pair.Gpu).Grids(wg, dg, shape, zeroDead: true, scG, zg, stG);
            Assert.Equal(pair.Read(scC), pair.Read(scG));
            Assert.Equal(pair.ReadInts(zc), pair.ReadInts(zg));
        }
        GptqKernels.For(pair.Cpu).Block(xc, uc, ic, gc, shape, start, width, !gridsFirst, scC, zc, cc, ec, stC);
        GptqKernels.For(pair.Gpu).Block(xg, ug, ig, gg, shape, start, width, !gridsFirst, scG, zg, cg, eg, stG);
        Assert.Equal(pair.Read(scC), pair.Read(scG));
        Assert.Equal(pair.ReadInts(zc), pair.ReadInts(zg));
        Assert.Equal(pair.ReadInts(stC), pair.ReadInts(stG));
        var codes = pair.ReadInts(cc);
        Assert.Equal(codes, pair.ReadInts(cg));
        Assert.Contains(codes, q => q > 0);
        AssertClose(pair.ReadDoubles(ec), pair.ReadDoubles(eg), 1e-12, "err");
    }

    /// <summary>An upper-triangular factor with a unit-sized diagonal, like the inverse Cholesky factor the loop reads.</summary>
    static double[] UpperFactor(int n, int seed)
    {
        var random = new Random(seed);
        var u = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            u[i * n + i] = 0.5 + random.NextDouble();
            for (int j = i + 1; j < n; j++) u[i * n + j] = (random.NextDouble() - 0.5) * 0.2;
        }
        return u;
    }
}
