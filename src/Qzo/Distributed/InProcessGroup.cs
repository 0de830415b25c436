using System.Collections.Concurrent;

namespace Qzo.Distributed;

/// <summary>
/// N ranks as threads of one process, sharing memory: the communicator of the tests and of `--devices cpu:N`. Sums run
/// in rank order (rank 0's values, plus rank 1's, ...), so every rank gets the same bits, as NCCL's all-reduce gives.
/// A point-to-point message is a copy queued for its receiver, so a send never waits.
/// When one rank fails (<see cref="Abort"/>), every rank waiting in a collective or a receive stops with a line naming it.
/// </summary>
public sealed class InProcessGroup
{
    readonly Barrier _barrier;
    readonly CancellationTokenSource _abort = new();
    readonly double[][] _contributions;
    readonly BlockingCollection<byte[]>[,] _messages; // [from, to]
    byte[] _broadcast = [];
    string _abortReason = "";

    InProcessGroup(int worldSize)
    {
        _barrier = new Barrier(worldSize);
        _contributions = new double[worldSize][];
        _messages = new BlockingCollection<byte[]>[worldSize, worldSize];
        for (int from = 0; from < worldSize; from++)
            for (int to = 0; to < worldSize; to++) _messages[from, to] = new BlockingCollection<byte[]>();
    }

    /// <summary>The members of a new group: element r is rank r's communicator; give each to its own thread.</summary>
    public static IReadOnlyList<ICommunicator> Create(int worldSize)
    {
        if (worldSize < 1) throw new QzoException($"a group needs at least one rank, got {worldSize}");
        var group = new InProcessGroup(worldSize);
        return Enumerable.Range(0, worldSize).Select(r => (ICommunicator)new Member(group, r)).ToList();
    }

    /// <summary>Stops every collective of the group, now and later: <paramref name="member"/>'s rank failed.</summary>
    public static void Abort(ICommunicator member, Exception reason)
    {
        if (member is not Member m) throw new ArgumentException("not a member of an in-process group", nameof(member));
        var group = m.Group;
        lock (group._abort)
        {
            if (group._abort.IsCancellationRequested) return;
            group._abortReason = $"rank {m.Rank} stopped: {reason.Message}";
            group._abort.Cancel();
        }
    }

    void Wait(int rank)
    {
        try { _barrier.SignalAndWait(_abort.Token); }
        catch (OperationCanceledException) { throw new RankAbortedException($"rank {rank}: {_abortReason}"); }
    }

    sealed class Member(InProcessGroup group, int rank) : ICommunicator
    {
        public InProcessGroup Group => group;
        public int Rank => rank;
        public int WorldSize => group._contributions.Length;

        public void AllReduceSum(Span<double> values)
        {
            group._contributions[rank] = values.ToArray();
            group.Wait(rank);
            var all = group._contributions;
            int length = values.Length;
            if (all.Any(c => c.Length != length)) throw new QzoException(
                $"rank {rank}: all-reduce lengths differ across ranks ({string.Join(", ", all.Select(c => c.Length))})");
            for (int i = 0; i < values.Length; i++)
            {
                double sum = all[0][i];
                for (int r = 1; r < all.Length; r++) sum += all[r][i];
                values[i] = sum;
            }
            group.Wait(rank); // nobody overwrites a contribution before every rank has read them all
        }

        public void Broadcast(Span<byte> data, int root)
        {
            if (root < 0 || root >= WorldSize) throw new ArgumentOutOfRangeException(nameof(root), $"root {root} of {WorldSize} ranks");
            if (rank == root) group._broadcast = data.ToArray();
            group.Wait(rank);
            if (group._broadcast.Length != data.Length) throw new QzoException(
                $"rank {rank}: broadcast of {data.Length} bytes, but root {root} sent {group._broadcast.Length}");
            group._broadcast.CopyTo(data);
            group.Wait(rank);
        }

        public void Barrier() => group.Wait(rank);

        public void Send(ReadOnlySpan<byte> data, int peer)
        {
            this.CheckPeer(peer);
            group._messages[rank, peer].Add(data.ToArray());
        }

        public void Receive(Span<byte> data, int peer)
        {
            this.CheckPeer(peer);
            byte[] message;
            try { message = group._messages[peer, rank].Take(group._abort.Token); }
            catch (OperationCanceledException) { throw new RankAbortedException($"rank {rank}: {group._abortReason}"); }
            if (message.Length != data.Length) throw new QzoException(
                $"rank {rank}: a message of {message.Length} bytes from rank {peer}, but {data.Length} expected: the ranks run different " +
                "code or settings");
            message.CopyTo(data);
        }

        public void Dispose() { }
    }
}

/// <summary>A collective stopped because another rank failed; the other rank's error is the one to report.</summary>
public sealed class RankAbortedException(string message) : Exception(message);
