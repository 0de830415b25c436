using System.Net;
using System.Net.Sockets;
using Qzo.Distributed;

namespace Qzo.Tests.Distributed;

public class TcpRendezvousTests
{

    static T[] OnThreads<T>(int world, Func<int, T> body)
    {
        var results = new T[world];
        var errors = new Exception?[world];
        var threads = Enumerable.Range(0, world).Select(r => new Thread(() =>
        {
            try { results[r] = body(r); }
            catch (Exception e) { errors[r] = e; }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (errors.FirstOrDefault(e => e is not null) is { } error) throw error;
        return results;
    }

    [Fact]
    public void RanksMeetOnLocalhostAndTheirCollectivesAgree()
    {
        int port = TcpRendezvous.FreeLoopbackPort();
        var results = OnThreads(3, rank =>
        {
            using var c = TcpRendezvous.Connect(new DistributedLaunch(rank, 3, rank, "127.0.0.1", port, "test"), TimeSpan.FromSeconds(20));
            double[] values = [rank + 0.5, 1e16 * (rank == 1 ? -1 : 1), 0.1];
            c.AllReduceSum(values);
            var id = rank == 1 ? new byte[] { 7, 8, 9 } : new byte[3];
            c.Broadcast(id, root: 1);
            c.Barrier();
            return (values, id, c.Rank, c.WorldSize);
        });
        double[] expected = [0.5 + 1.5 + 2.5, 1e16 - 1e16 + 1e16, 0.1 + 0.1 + 0.1];
        Assert.All(results, r => Assert.Equal(expected, r.values));
        Assert.All(results, r => Assert.Equal([7, 8, 9], r.id));
        Assert.Equal([0, 1, 2], results.Select(r => r.Rank));
    }

    [Fact]
    public void ARankWithAnotherWorldSizeIsRefusedByRankZero()
    {
        int port = TcpRendezvous.FreeLoopbackPort();
        var errors = OnThreads(2, rank =>
        {
            try
            {
                var launch = new DistributedLaunch(rank, rank == 0 ? 2 : 3, 0, "127.0.0.1", port, "test");
                TcpRendezvous.Connect(launch, TimeSpan.FromSeconds(20)).Dispose();
                return "";
            }
            catch (QzoException e) { return e.Message; }
        });
        Assert.Equal("rendezvous: rank 0 on port " + port + " was reached by rank 1 says the world has 3 ranks, rank 0 says 2", errors[0]);
        Assert.StartsWith("rendezvous: rank 0 refused rank 1: rank 1 says the world has 3 ranks", errors[1]);
    }

    [Fact]
    public void RankZeroNamesTheRanksThatNeverCame()
    {
        var launch = new DistributedLaunch(0, 3, 0, "127.0.0.1", TcpRendezvous.FreeLoopbackPort(), "test");
        var error = Assert.Throws<QzoException>(() => TcpRendezvous.Connect(launch, TimeSpan.FromMilliseconds(300)));
        Assert.Contains("rank(s) 1, 2 of 3 had not connected", error.Message);
    }
}
