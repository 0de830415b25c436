using Qzo.Numerics;

namespace Qzo.Tests.Tasks;

public class MersenneTwisterTests
{
    [Fact]
    public void MatchesTheReferenceGeneratorsKnownOutputs()
    {
        // C++'s std::mt19937 (default seed 5489) must return 4123659995 as its 10000th value; seed 0 starts with 2357136044.
        var standard = new MersenneTwister(5489);
        uint value = 0;
        for (int i = 0; i < 10_000; i++) value = standard.NextUInt32();
        Assert.Equal(4123659995u, value);
        Assert.Equal(2357136044u, new MersenneTwister(0).NextUInt32());
    }

    [Fact]
    public void PermutationIsNumpysLegacyOne()
    {
        // np.random.seed(0); np.random.permutation(10)
        Assert.Equal([2, 8, 4, 9, 1, 6, 7, 3, 0, 5], MersenneTwister.NumpyPermutation(10, 0));
        var large = MersenneTwister.NumpyPermutation(1000, 42);
        Assert.Equal(Enumerable.Range(0, 1000), large.Order());
    }
}
