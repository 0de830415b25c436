using Qzo.Compute.Cpu;

namespace Qzo.Tests.Compute;

public class SgemmTests
{
    // Tolerance: |C − C_ref| ≤ 1e-7 · (k + 8) · (|C₀| + Σ_p |a_ip · b_pj|), C₀ the initial C when accumulating.
    // Float32 summation of those k + 1 terms in any order, FMA or not, errs by at most about (k + 1)·2⁻²⁴
    // ≈ 6e-8·(k + 1) of that sum (plus half an ulp for rounding the reference), so this holds for any correct
    // summation order, yet a wrong or missing term (~1/k of the sum) fails it for every k here (up to ~1000).
    private const double Rtol = 1e-7;

    // Every case runs both kernel paths: forcing Vector256 here covers CI machines without AVX-512.
    private static readonly SgemmPath[] Paths = [SgemmPath.Vector512, SgemmPath.Vector256];

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void RandomShapesMatchReference(bool transposedB, bool accumulate)
    {
        var rng = new Random(20240611);
        for (int trial = 0; trial < 25; trial++)
        {
            int m = rng.Next(1, 301), n = rng.Next(1, 301), k = rng.Next(1, 301);
            Check(rng, m, n, k, transposedB, accumulate);
        }
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void EdgeShapesMatchReference(bool transposedB, bool accumulate)
    {
        var rng = new Random(7);
        // Around the tile sizes (MR 8 or 6, NR 32 or 16, MC ≤ 128, KC 256) and primes.
        foreach (int m in new[] { 1, 2, 5, 6, 7, 8, 9, 17, 31, 48, 127, 128, 129, 257 })
            foreach (int n in new[] { 1, 7, 16, 17, 31, 32, 33, 65, 97 })
                foreach (int k in new[] { 1, 2, 13, 256, 257, 521 })
                    if ((long)m * n * k <= 600_000) Check(rng, m, n, k, transposedB, accumulate);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void ParallelSplitsMatchReference(bool transposedB, bool accumulate)
    {
        // Large enough to run in parallel: few rows split over columns, then rows and columns both.
        var rng = new Random(13);
        Check(rng, 9, 1000, 600, transposedB, accumulate);
        Check(rng, 40, 700, 300, transposedB, accumulate);
        Check(rng, 1, 4100, 1030, transposedB, accumulate);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void LargeShapeMatchesReference(bool transposedB, bool accumulate)
        => Check(new Random(3), 512, 384, 640, transposedB, accumulate);

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void PublicEntryPointsMatchReference(bool transposedB, bool accumulate)
    {
        // The public methods take the machine's default path; shape large enough to run in parallel.
        var rng = new Random(11);
        int m = 203, n = 331, k = 149;
        var a = RandomArray(rng, m * k);
        var b = RandomArray(rng, n * k);
        var c = RandomArray(rng, m * n);
        var expected = (float[])c.Clone();
        Sgemm.Reference(a, b, expected, m, n, k, transposedB, accumulate);
        var magnitude = Magnitude(a, b, c, m, n, k, transposedB, accumulate);
        Multiply(a, b, c, m, n, k, transposedB, accumulate);
        AssertClose(expected, c, magnitude, k, $"{m}×{n}×{k} transposedB={transposedB} accumulate={accumulate}");
    }

    /// <summary>
    /// A row's results are the same bits whatever rows surround it: a pipeline's micro-batches and a data-parallel share
    /// score their rows exactly as the whole batch does. Row counts around the tiles (MR 8 or 6, MC ≤ 128), K over two blocks.
    /// </summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void RowsGetTheSameBitsInABatchOfAnySize(bool transposedB, bool accumulate)
    {
        var rng = new Random(17);
        int m = 261, n = 45, k = 300;
        var a = RandomArray(rng, m * k);
        var b = RandomArray(rng, n * k);
        var initial = RandomArray(rng, m * n);
        foreach (var path in Paths)
        {
            var whole = (float[])initial.Clone();
            Sgemm.Multiply(a, b, whole, m, n, k, accumulate, transposedB, path);
            foreach (var (first, rows) in new[] { (0, 1), (3, 5), (7, 13), (40, 128), (130, 131), (255, 6) })
            {
                var part = initial[(first * n)..((first + rows) * n)];
                Sgemm.Multiply(a[(first * k)..((first + rows) * k)], b, part, rows, n, k, accumulate, transposedB, path);
                Assert.Equal(whole[(first * n)..((first + rows) * n)], part);
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ZeroKZeroesOrLeavesC(bool transposedB)
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        Multiply([], [], c, 2, 3, 0, transposedB, accumulate: true);
        Assert.Equal([1f, 2, 3, 4, 5, 6], c);
        Multiply([], [], c, 2, 3, 0, transposedB, accumulate: false);
        Assert.All(c, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void EmptyOutputTouchesNothing()
    {
        var c = new float[] { 9 };
        Sgemm.MatMul([], new float[5], c, 0, 1, 5);
        Sgemm.MatMulTransposedB(new float[5], [], c, 1, 0, 5);
        Assert.Equal(9f, c[0]);
    }

    [Fact]
    public void WritesOnlyTheFirstMTimesNElementsOfC()
    {
        var rng = new Random(5);
        int m = 37, n = 45, k = 29;
        var c = Enumerable.Repeat(-7f, m * n + 50).ToArray();
        Sgemm.MatMulTransposedB(RandomArray(rng, m * k), RandomArray(rng, n * k), c, m, n, k);
        Assert.All(c[(m * n)..], x => Assert.Equal(-7f, x));
    }

    [Fact]
    public void ShortSpansThrow()
    {
        float[] a = new float[6], b = new float[12], c = new float[8];
        Assert.Throws<ArgumentException>("a", () => Sgemm.MatMul(a[..5], b, c, 2, 4, 3));
        Assert.Throws<ArgumentException>("b", () => Sgemm.MatMul(a, b[..11], c, 2, 4, 3));
        Assert.Throws<ArgumentException>("c", () => Sgemm.MatMulTransposedB(a, b, c[..7], 2, 4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sgemm.MatMul(a, b, c, -1, 4, 3));
        Assert.Throws<ArgumentException>("a", () => Sgemm.Reference(a[..5], b, c, 2, 4, 3, transposedB: false));
    }

    private static void Multiply(float[] a, float[] b, float[] c, int m, int n, int k, bool transposedB, bool accumulate)
    {
        if (transposedB) Sgemm.MatMulTransposedB(a, b, c, m, n, k, accumulate);
        else Sgemm.MatMul(a, b, c, m, n, k, accumulate);
    }

    private static void Check(Random rng, int m, int n, int k, bool transposedB, bool accumulate)
    {
        var a = RandomArray(rng, m * k);
        var b = RandomArray(rng, n * k);
        var initial = accumulate ? RandomArray(rng, m * n) : Enumerable.Repeat(float.NaN, m * n).ToArray();
        var expected = (float[])initial.Clone();
        Sgemm.Reference(a, b, expected, m, n, k, transposedB, accumulate);
        var magnitude = Magnitude(a, b, initial, m, n, k, transposedB, accumulate);
        foreach (var path in Paths)
        {
            var c = (float[])initial.Clone();
            Sgemm.Multiply(a, b, c, m, n, k, accumulate, transposedB, path);
            AssertClose(expected, c, magnitude, k, $"{m}×{n}×{k} transposedB={transposedB} accumulate={accumulate} {path}");
        }
    }

    // |C₀| + Σ_p |a_ip · b_pj| for every element: the reference product of the absolute values.
    private static float[] Magnitude(float[] a, float[] b, float[] initial, int m, int n, int k, bool transposedB, bool accumulate)
    {
        var magnitude = accumulate ? initial.Select(Math.Abs).ToArray() : new float[m * n];
        Sgemm.Reference(a.Select(Math.Abs).ToArray(), b.Select(Math.Abs).ToArray(), magnitude, m, n, k, transposedB, accumulate: true);
        return magnitude;
    }

    private static void AssertClose(float[] expected, float[] actual, float[] magnitude, int k, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = Rtol * (k + 8) * magnitude[i];
            double error = Math.Abs((double)expected[i] - actual[i]);
            if (!(error <= tolerance))
                Assert.Fail($"element {i} of {what}: expected {expected[i]}, got {actual[i]}, tolerance {tolerance:G3}");
        }
    }

    private static float[] RandomArray(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = rng.NextSingle() * 2 - 1;
        return x;
    }
}
