using Qzo.Numerics;

namespace Qzo.Tests.Numerics;

public class DeterministicMathTests
{
    [Fact]
    public void LogMatchesMathLogToAFewUlpsOfDouble()
    {
        double worst = 0;
        var random = new Random(1);
        var inputs = Enumerable.Range(1, 5000).Select(j => j / 16777216.0)                   // the smallest u1 values
            .Concat(Enumerable.Range(0, 20000).Select(_ => (random.Next(1 << 24) + 1) / 16777216.0))
            .Concat([1.0, 0.5, Math.Sqrt(0.5), 0.70710678, 0.7071068, 1.0 - 1.0 / 16777216]);
        foreach (double x in inputs)
        {
            double expected = Math.Log(x), actual = DeterministicMath.Log(x);
            double error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300);
            if (x != 1.0) worst = Math.Max(worst, error);
            else Assert.Equal(0.0, actual);
        }
        Assert.True(worst < 4e-16, $"worst relative error {worst:E2}");
    }

    [Fact]
    public void CosTwoPiMatchesMathCosOnEveryReductionBranch()
    {
        double worst = 0;
        var random = new Random(2);
        var inputs = Enumerable.Range(0, 33).Select(q => q / 32.0)                             // quarter-turn boundaries and between
            .Concat(Enumerable.Range(0, 50000).Select(_ => random.Next(1 << 24) / 16777216.0))
            .Where(u => u < 1.0);
        foreach (double u in inputs)
            worst = Math.Max(worst, Math.Abs(DeterministicMath.CosTwoPi(u) - Math.Cos(2 * Math.PI * u)));
        Assert.True(worst < 1e-15, $"worst absolute error {worst:E2}");
    }

    [Fact]
    public void ZIsTheCorrectlyRoundedBoxMullerValue()
    {
        // z computed here with Math.Log/Math.Cos in double and rounded once must equal GaussianDirection.Z
        // except where the double result lies within a hair of a float rounding boundary.
        int mismatches = 0;
        for (long i = 0; i < 20000; i++)
        {
            var (x0, x1, _, _) = Philox.Generate((uint)i, 0, 5, 0, 0xDEADBEEF, 0x12345678);
            double u1 = ((x0 >> 8) + 1) / 16777216.0, u2 = (x1 >> 8) / 16777216.0;
            float expected = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            if (expected != GaussianDirection.Z(0x12345678DEADBEEFUL, 5, i)) mismatches++;
        }
        Assert.True(mismatches <= 2, $"{mismatches} of 20000 differ from the correctly rounded value");
    }
}
