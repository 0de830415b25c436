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

    [Fact]
    public void PointToPointMessagesArriveInTheOrderSent()
    {
        var results = InProcessRanks.Run(3, c =>
        {
            int next = (c.Rank + 1) % 3, previous = (c.Rank + 2) % 3;
            c.Send([(byte)c.Rank, 1], next); // a ring: every rank sends first, which a queue allows
            c.Send([(byte)c.Rank, 2, 3], next);
            byte[] first = new byte[2], second = new byte[3];
            c.Receive(first, previous);
            c.Receive(second, previous);
            return (first, second, previous);
        });
        Assert.All(results, r => Assert.Equal([(byte)r.previous, 1], r.first));
        Assert.All(results, r => Assert.Equal([(byte)r.previous, 2, 3], r.second));
    }

    [Fact]
    public void AMessageOfAnotherLengthOrToItselfIsRefused()
    {
        var error = Assert.Throws<QzoException>(() => InProcessRanks.Run(2, c =>
        {
            if (c.Rank == 0) c.Send(new byte[4], 1);
            else c.Receive(new byte[3], 0);
            return 0;
        }));
        Assert.Equal("rank 1: a message of 4 bytes from rank 0, but 3 expected: the ranks run different code or settings", error.Message);
        var self = Assert.Throws<ArgumentOutOfRangeException>(() => InProcessRanks.Run(2, c =>
        {
            c.Send(new byte[1], c.Rank);
            return 0;
        }));
        Assert.StartsWith("rank 0 cannot exchange messages with rank 0 (of 2, not itself)", self.Message);
    }

    [Fact]
    public void AReceiveWaitingOnAFailedRankStops()
    {
        var error = Assert.Throws<QzoException>(() => InProcessRanks.Run(2, c =>
        {
            if (c.Rank == 0) throw new QzoException("rank zero failed before sending");
            c.Receive(new byte[8], 0);
            return 0;
        }));
        Assert.Equal("rank zero failed before sending", error.Message);
    }
}
