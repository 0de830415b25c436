namespace Qzo.Distributed;

/// <summary>
/// The collectives a data-parallel run needs (docs/distributed.md): a zeroth-order step exchanges a few loss sums, never
/// a gradient. Every rank calls every collective in the same order with the same lengths; each call returns only when
/// every rank has made it. Results are the same bits on every rank, so ranks that apply them stay identical. A pipeline
/// (layers split across ranks) adds point-to-point messages: the hidden states one rank hands the next.
/// Implementations: <see cref="InProcessGroup"/> (ranks as threads, for tests and CPU runs), <see cref="TcpCommunicator"/>
/// (ranks as processes over TCP, CPU), <see cref="Nccl.NcclCommunicator"/> (one process per GPU).
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's (or thread's) rank, 0 ≤ Rank &lt; WorldSize.</summary>
    int Rank { get; }

    int WorldSize { get; }

    /// <summary>
    /// values ← Σ over ranks of every rank's values, element by element, in place; every rank passes the same length.
    /// </summary>
    void AllReduceSum(Span<double> values);

    /// <summary>data ← root's data on every rank, in place; every rank passes the same length.</summary>
    void Broadcast(Span<byte> data, int root);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>
    /// Sends <paramref name="data"/> to rank <paramref name="peer"/> (not this one), which takes it with
    /// <see cref="Receive"/> of the same length; messages from one rank to another arrive in the order they were sent.
    /// It may return before the peer has received it (threads queue it; TCP within its socket buffers) or wait for the peer
    /// (NCCL; TCP beyond its buffers), so no schedule may have ranks send to each other in a cycle before receiving (a
    /// pipeline's chain never does).
    /// </summary>
    void Send(ReadOnlySpan<byte> data, int peer);

    /// <summary>Fills <paramref name="data"/> with the next message rank <paramref name="peer"/> sent this rank.</summary>
    void Receive(Span<byte> data, int peer);
}

/// <summary>The rank that writes files, logs and checkpoints.</summary>
public static class CommunicatorExtensions
{
    public static bool IsRoot(this ICommunicator communicator) => communicator.Rank == 0;

    /// <summary>Every rank's <paramref name="own"/> bytes, by rank, on every rank (a broadcast from each rank in turn).</summary>
    public static byte[][] AllGather(this ICommunicator communicator, byte[] own)
    {
        var lengths = new double[communicator.WorldSize];
        lengths[communicator.Rank] = own.Length;
        communicator.AllReduceSum(lengths);
        var all = new byte[communicator.WorldSize][];
        for (int r = 0; r < all.Length; r++)
        {
            all[r] = r == communicator.Rank ? own : new byte[checked((int)lengths[r])];
            communicator.Broadcast(all[r], root: r);
        }
        return all;
    }

    /// <summary>Every rank's list of strings (none holding a line break), by rank, on every rank.</summary>
    public static string[][] AllGather(this ICommunicator communicator, IReadOnlyList<string> own) =>
        communicator.AllGather(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', own)))
            .Select(bytes => bytes.Length == 0 ? [] : System.Text.Encoding.UTF8.GetString(bytes).Split('\n')).ToArray();

    /// <summary>Refuses a point-to-point peer outside the world, or this rank itself, in one line.</summary>
    public static void CheckPeer(this ICommunicator communicator, int peer)
    {
        if (peer < 0 || peer >= communicator.WorldSize || peer == communicator.Rank) throw new ArgumentOutOfRangeException(nameof(peer),
            $"rank {communicator.Rank} cannot exchange messages with rank {peer} (of {communicator.WorldSize}, not itself)");
    }
}
