using Qzo.Distributed;

namespace Qzo.Tests.Distributed;

public class InProcessGroupTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void AllReduceSumGivesEveryRankTheRankOrderSum(int world)
    {
        static double[] Contribution(int rank) => [0.1 * (rank + 1), 1e16 * (rank % 2 == 0 ? 1 : -1), rank];
        var results = InProcessRanks.Run(world, c =>
        {
            var values = Contribution(c.Rank);
            c.AllReduceSum(values);
            return values;
        });
        var expected = Contribution(0);
        for (int r = 1; r < world; r++)
            for (int i = 0; i < expected.Length; i++) expected[i] += Contribution(r)[i];
        Assert.All(results, r => Assert.Equal(expected, r)); // the same bits everywhere, summed in rank order
    }

    [Fact]
    public void BroadcastCopiesTheRootsBytesAndBarrierHoldsEveryRank()
    {
        int arrived = 0;
        var results = InProcessRanks.Run(3, c =>
        {
            var data = new byte[] { (byte)c.Rank, (byte)(10 + c.Rank) };
            Interlocked.Increment(ref arrived);
            c.Barrier();
            int seen = Volatile.Read(ref arrived);
            c.Broadcast(data, root: 2);
            return (data, seen);
        });
        Assert.All(results, r => Assert.Equal([2, 12], r.data));
        Assert.All(results, r => Assert.Equal(3, r.seen));
    }

    [Fact]
    public void AFailingRankStopsTheOthersAndItsOwnErrorIsReported()
    {
        var error = Assert.Throws<QzoException>(() => InProcessRanks.Run(3, c =>
        {
            if (c.Rank == 1) throw new QzoException("rank one's data is bad");
            c.AllReduceSum(new double[2]);
            return 0;
        }));
        Assert.Equal("rank one's data is bad", error.Message);
    }

    [Fact]
    public void DifferentLengthsAcrossRanksAreRefused()
    {
        var error = Assert.Throws<QzoException>(() => InProcessRanks.Run(2, c =>
        {
            c.AllReduceSum(new double[c.Rank + 1]);
            return 0;
        }));
        Assert.Contains("all-reduce lengths differ across ranks (1, 2)", error.Message);
    }
}
