using Qzo.Numerics;

namespace Qzo.Tests.Numerics;

public class PhiloxTests
{
    // Random123 tests/kat_vectors, "philox4x32 10" lines: counter[4] key[2] -> output[4].
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u,
                0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
                0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u,
                0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void MatchesRandom123KnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1,
                                             uint e0, uint e1, uint e2, uint e3)
    {
        Assert.Equal((e0, e1, e2, e3), Philox.Generate(c0, c1, c2, c3, k0, k1));
    }

    [Fact]
    public void ZIsBoxMullerOverTheSpecifiedCounterAndKey()
    {
        // docs/algorithm.md §5 written out by hand for one element, independently of GaussianDirection.
        ulong seed = 0x0123456789ABCDEFUL; int tensor = 7; long index = 0x1_0000_0005L;
        var (x0, x1, _, _) = Philox.Generate(5u, 1u, 7u, 0u, 0x89ABCDEFu, 0x01234567u);
        double u1 = ((x0 >> 8) + 1) / 16777216.0, u2 = (x1 >> 8) / 16777216.0;
        double expected = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        Assert.Equal(expected, GaussianDirection.Z(seed, tensor, index), 5);
    }

    [Fact]
    public void ZHasZeroMeanAndUnitVarianceOver1e5Draws()
    {
        const int n = 100_000;
        var z = new float[n];
        GaussianDirection.Fill(seed: 42, tensor: 3, start: 0, z);
        double mean = z.Average(v => (double)v);
        double variance = z.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        // Standard errors: mean 1/sqrt(n) = 0.0032, variance sqrt(2/n) = 0.0045; allow about 4 of each.
        Assert.InRange(mean, -0.013, 0.013);
        Assert.InRange(variance, 0.982, 1.018);
        double kurtosis = z.Sum(v => Math.Pow(v - mean, 4)) / n / (variance * variance);
        Assert.InRange(kurtosis, 2.9, 3.1);
    }

    [Fact]
    public void ZIsTheSameWhateverTheOrderOrThreadingOfGeneration()
    {
        const int n = 10_000;
        var forward = new float[n];
        GaussianDirection.Fill(99, 1, 1000, forward);
        var backward = new float[n];
        for (int i = n - 1; i >= 0; i--) backward[i] = GaussianDirection.Z(99, 1, 1000 + i);
        var parallel = new float[n];
        Parallel.For(0, n / 100, chunk => GaussianDirection.Fill(99, 1, 1000 + chunk * 100, parallel.AsSpan(chunk * 100, 100)));
        Assert.Equal(forward, backward);
        Assert.Equal(forward, parallel);
    }

    [Fact]
    public void DifferentSeedsTensorsAndIndicesGiveDifferentZ()
    {
        float z = GaussianDirection.Z(1, 0, 0);
        Assert.NotEqual(z, GaussianDirection.Z(2, 0, 0));
        Assert.NotEqual(z, GaussianDirection.Z(1, 1, 0));
        Assert.NotEqual(z, GaussianDirection.Z(1, 0, 1));
        Assert.NotEqual(z, GaussianDirection.Z(1, 0, 1L << 32));
    }

    [Fact]
    public void StepSeedsAreDistinctAndReproducible()
    {
        var seeds = Enumerable.Range(0, 1000).Select(t => SplitMix64.StepSeed(1234, t)).ToArray();
        Assert.Equal(1000, seeds.Distinct().Count());
        Assert.Equal(seeds[17], SplitMix64.StepSeed(1234, 17));
        Assert.Equal(0xE220A8397B1DCDAFUL, SplitMix64.Mix(0)); // SplitMix64 reference: first output for state 0
    }
}
