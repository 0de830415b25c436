using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Qzo.Distributed;

/// <summary>
/// Ranks as processes (any hosts) over the TCP connections of <see cref="TcpRendezvous"/>: rank 0 gathers, sums in rank
/// order and sends the result back, so every rank gets the same bits. For CPU runs across processes and for the NCCL
/// unique id; a step's few doubles make its cost one round trip.
/// </summary>
public sealed class TcpCommunicator : ICommunicator
{
    const byte AllReduceOp = 1, BroadcastOp = 2;
    readonly NetworkStream[] _peers; // rank 0: ranks 1..N-1 in order; any other rank: rank 0

    internal TcpCommunicator(int rank, int worldSize, NetworkStream[] peers)
    {
        Rank = rank;
        WorldSize = worldSize;
        _peers = peers;
    }

    public int Rank { get; }
    public int WorldSize { get; }

    public void AllReduceSum(Span<double> values)
    {
        if (WorldSize == 1) return;
        var bytes = MemoryMarshal.AsBytes(values);
        if (Rank != 0)
        {
            Send(_peers[0], AllReduceOp, bytes);
            Receive(_peers[0], AllReduceOp, bytes, "rank 0");
            return;
        }
        var contributions = new double[WorldSize - 1][];
        for (int r = 1; r < WorldSize; r++)
        {
            contributions[r - 1] = new double[values.Length];
            Receive(_peers[r - 1], AllReduceOp, MemoryMarshal.AsBytes(contributions[r - 1].AsSpan()), $"rank {r}");
        }
        for (int i = 0; i < values.Length; i++)
        {
            double sum = values[i];
            foreach (var c in contributions) sum += c[i];
            values[i] = sum;
        }
        foreach (var peer in _peers) Send(peer, AllReduceOp, bytes);
    }

    public void Broadcast(Span<byte> data, int root)
    {
        if (root < 0 || root >= WorldSize) throw new ArgumentOutOfRangeException(nameof(root), $"root {root} of {WorldSize} ranks");
        if (WorldSize == 1) return;
        if (Rank == 0)
        {
            if (root != 0) Receive(_peers[root - 1], BroadcastOp, data, $"rank {root}");
            foreach (var peer in _peers) Send(peer, BroadcastOp, data);
            return;
        }
        if (Rank == root) Send(_peers[0], BroadcastOp, data);
        Receive(_peers[0], BroadcastOp, data, "rank 0");
    }

    public void Barrier() => AllReduceSum(Span<double>.Empty);

    void Send(NetworkStream peer, byte op, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = op;
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame.AsSpan(5));
        try { peer.Write(frame); }
        catch (IOException) { throw new QzoException($"rank {Rank}: a peer closed its connection (did that rank stop?)"); }
    }

    void Receive(NetworkStream peer, byte op, Span<byte> into, string from)
    {
        string what = $"rank {Rank}: a collective from {from}";
        var header = TcpRendezvous.Read(peer, 5, what);
        int length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(1));
        if (header[0] != op || length != into.Length) throw new QzoException(
            $"{what} does not match this rank's (operation {header[0]} of {length} bytes, here {op} of {into.Length}): the ranks " +
            "run different code or settings");
        TcpRendezvous.Read(peer, length, what).CopyTo(into);
    }

    public void Dispose()
    {
        foreach (var peer in _peers) peer.Dispose();
    }
}
