using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

/// <summary>
/// GPTQ on a backend (<see cref="GptqSolver"/>, what `qzo quantize` runs) against the plain-CPU reference <see cref="GptqQuantizer"/>.
/// </summary>
public class GptqSolverTests
{
    /// <summary>One matrix: weights, the Hessian of correlated inputs with some inputs dead, and both solutions.</summary>
    internal static (GptqSolution Backend, GptqSolution Reference) Solve(IBackend backend, int rows, int n, GptqSettings settings,
        int seed, int[] dead)
    {
        var x = GptqQuantizerTests.CorrelatedInputs(4 * n, n, seed, dead);
        var h = GptqQuantizerTests.Hessian(x, 4 * n, n);
        var weight = GptqQuantizerTests.Gaussian(new Random(seed + 1), rows * n, 0.05f);
        using var sum = backend.Allocate(DType.F32, (long)n * n, MemoryCategory.Workspace);
        backend.Upload<float>(sum, h);
        return (GptqSolver.Quantize(backend, weight, rows, n, sum, settings), GptqQuantizer.Quantize(weight, rows, n, h, settings));
    }

    public static TheoryData<int, int, bool, bool, bool, int> Cases() => new()
    {
        // bits, group, sym, act-order, static groups, block size
        { 4, 16, true, false, false, 16 },
        { 3, 32, false, false, false, 32 },
        { 2, -1, true, true, false, 16 },
        { 4, 16, false, true, false, 8 },
        { 8, 32, true, true, true, 16 },
        { 3, -1, false, false, false, 64 },
        { 4, 24, true, false, false, 16 },   // groups straddle blocks
        { 2, 16, false, true, false, 64 },   // several groups per block
        { 4, 32, false, true, true, 128 },   // one block over everything
        { 8, -1, false, true, false, 48 },   // a last block narrower than the rest
    };

    /// <summary>
    /// On the CPU backend the solver does GptqQuantizer's arithmetic in GptqQuantizer's order: everything equal, bit for bit.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void OnTheCpuBackendEqualsTheReferenceBitForBit(int bits, int groupSize, bool sym, bool actOrder, bool staticGroups,
        int blockSize)
    {
        using var backend = new CpuBackend();
        var settings = new GptqSettings(bits, groupSize, sym, actOrder, staticGroups, BlockSize: blockSize);
        var (solution, reference) = Solve(backend, 32, 96, settings, seed: bits * 100 + blockSize, dead: [5, 40]);
        Assert.Equal(reference.Order, solution.Order);
        Assert.Equal(reference.GIdx, solution.GIdx);
        Assert.Equal(reference.Scales, solution.Scales);
        Assert.Equal(reference.Zeros, solution.Zeros);
        Assert.Equal(reference.Codes, solution.Codes);
    }

    [Fact]
    public void BadInputIsRefusedAsTheReferenceRefusesIt()
    {
        using var backend = new CpuBackend();
        const int n = 32;
        var w = GptqQuantizerTests.Gaussian(new Random(1), n * n, 0.05f);
        var identity = new float[n * n];
        for (int j = 0; j < n; j++) identity[j * n + j] = 1;
        using var h = backend.Allocate(DType.F32, n * n, MemoryCategory.Workspace);

        void Refused(float[] weight, float[] hessian, GptqSettings settings, string mention)
        {
            backend.Upload<float>(h, hessian);
            Assert.Contains(mention, Assert.Throws<QzoException>(() => GptqSolver.Quantize(backend, weight, n, n, h, settings)).Message);
            // inside its parallel loops, wrapped
            var e = Assert.ThrowsAny<Exception>(() => GptqQuantizer.Quantize(weight, n, n, hessian, settings));
            Assert.IsType<QzoException>((e as AggregateException)?.InnerException ?? e);
        }

        var nan = identity.ToArray(); nan[3 * n + 4] = float.NaN; nan[4 * n + 3] = float.NaN;
        Refused(w, nan, new GptqSettings(4, 32, true), "non-finite entry at inputs (3, 4)");
        Refused(w, identity.Select(v => -v).ToArray(), new GptqSettings(4, 32, true), "not positive definite");
        Refused(w.Select(v => v * 1e7f).ToArray(), identity, new GptqSettings(2, 32, true), "does not fit in fp16");
        Refused(w, identity, new GptqSettings(5, 32, true), "bits");
        Refused(w, identity, new GptqSettings(4, 32, true, BlockSize: 0), "block size");
        var infinite = w.ToArray(); infinite[70] = float.PositiveInfinity;
        Refused(infinite, identity, new GptqSettings(4, 32, true), "non-finite weight");
    }
}
