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
    public void PointToPointMessagesReachEveryPairInOrder()
    {
        int port = TcpRendezvous.FreeLoopbackPort();
        var large = Enumerable.Range(0, 3 << 20).Select(i => (byte)(i * 7)).ToArray(); // beyond the sockets' buffers
        var results = OnThreads(3, rank =>
        {
            using var c = TcpRendezvous.Connect(new DistributedLaunch(rank, 3, rank, "127.0.0.1", port, "test"), TimeSpan.FromSeconds(20));
            var seen = new List<byte[]>();
            byte[] Take(int length, int from)
            {
                var message = new byte[length];
                c.Receive(message, from);
                seen.Add(message);
                return message;
            }
            if (rank == 2) c.Send([21], 1); // the higher rank speaks first: it waits for the lower one to connect
            if (rank == 1) Take(1, 2);
            // a chain 0 → 1 → 2 (a pipeline's) of a large message, then small ones around the ring 2 → 0
            if (rank == 0) c.Send(large, 1);
            else c.Send(Take(large.Length, rank - 1), (rank + 1) % 3);
            if (rank == 0) Take(large.Length, 2);
            c.Send([(byte)rank, 1], (rank + 2) % 3);
            c.Send([(byte)rank, 2], (rank + 2) % 3);
            Take(2, (rank + 1) % 3);
            Take(2, (rank + 1) % 3);
            c.AllReduceSum(new double[1]); // collectives still pair up after point-to-point traffic on the same connections
            return seen;
        });
        Assert.Equal([21], results[1][0]);
        Assert.Equal(large, results[1][1]);
        Assert.Equal(large, results[2][0]);
        Assert.Equal(large, results[0][0]);
        for (int rank = 0; rank < 3; rank++)
            Assert.Equal([[(byte)((rank + 1) % 3), 1], [(byte)((rank + 1) % 3), 2]], results[rank].TakeLast(2));
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
