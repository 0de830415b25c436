namespace Qzo.Distributed;

/// <summary>
/// The collectives a data-parallel run needs (docs/distributed.md): a zeroth-order step exchanges a few loss sums, never
/// a gradient. Every rank calls every collective in the same order with the same lengths; each call returns only when
/// every rank has made it. Results are the same bits on every rank, so ranks that apply them stay identical.
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
}

/// <summary>The rank that writes files, logs and checkpoints.</summary>
public static class CommunicatorExtensions
{
    public static bool IsRoot(this ICommunicator communicator) => communicator.Rank == 0;
}
