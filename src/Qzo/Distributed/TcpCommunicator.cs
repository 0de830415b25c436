using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Qzo.Distributed;

/// <summary>
/// Ranks as processes (any hosts) over the TCP connections of <see cref="TcpRendezvous"/>: rank 0 gathers, sums in rank
/// order and sends the result back, so every rank gets the same bits. For CPU runs across processes and for the NCCL
/// unique id; a step's few doubles make its cost one round trip. Point-to-point messages to or from rank 0 ride the star's
/// connection; two other ranks open their own the first time they exchange one: the lower rank connects to where the
/// higher listens (rank 0's answer at the rendezvous says where), so a pipeline opens only its neighbours' connections.
/// </summary>
public sealed class TcpCommunicator : ICommunicator
{
    const byte AllReduceOp = 1, BroadcastOp = 2, MessageOp = 3;
    readonly NetworkStream[] _peers; // rank 0: ranks 1..N-1 in order; any other rank: rank 0
    readonly TcpListener? _listener; // ranks ≥ 1: where higher ranks connect for point-to-point messages
    readonly IPEndPoint[] _listening; // rank r ≥ 1's listener
    readonly NetworkStream?[] _direct; // connections to other ranks ≥ 1, opened on first use
    readonly TimeSpan _timeout;

    internal TcpCommunicator(int rank, int worldSize, NetworkStream[] peers, TcpListener? listener, IPEndPoint[] listening,
                             TimeSpan timeout)
    {
        Rank = rank;
        WorldSize = worldSize;
        _peers = peers;
        _listener = listener;
        _listening = listening;
        _direct = new NetworkStream?[worldSize];
        _timeout = timeout;
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

    public void Send(ReadOnlySpan<byte> data, int peer)
    {
        this.CheckPeer(peer);
        Send(Channel(peer), MessageOp, data);
    }

    public void Receive(Span<byte> data, int peer)
    {
        this.CheckPeer(peer);
        Receive(Channel(peer), MessageOp, data, $"rank {peer}");
    }

    /// <summary>The connection to <paramref name="peer"/>: the star's where either is rank 0, else a direct one.</summary>
    NetworkStream Channel(int peer)
    {
        if (Rank == 0) return _peers[peer - 1];
        if (peer == 0) return _peers[0];
        if (_direct[peer] is { } open) return open;
        if (Rank < peer) return _direct[peer] = ConnectTo(peer);
        while (_direct[peer] is null) AcceptLowerRank(); // a rank below this one connects when it first needs the connection
        return _direct[peer]!;
    }

    NetworkStream ConnectTo(int peer)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var client = new TcpClient { NoDelay = true };
            try
            {
                client.Connect(_listening[peer]);
                var stream = client.GetStream();
                stream.Write([.. TcpRendezvous.Magic, .. TcpRendezvous.Int32(Rank), .. TcpRendezvous.Int32(WorldSize)]);
                return stream;
            }
            catch (SocketException e)
            {
                client.Dispose();
                if (clock.Elapsed > _timeout) throw new QzoException(
                    $"rank {Rank} could not reach rank {peer} at {_listening[peer]} in {_timeout.TotalSeconds:F0} s ({e.Message})");
                Thread.Sleep(100);
            }
        }
    }

    void AcceptLowerRank()
    {
        var client = _listener!.AcceptTcpClient();
        client.NoDelay = true;
        var stream = client.GetStream();
        var hello = TcpRendezvous.Read(stream, TcpRendezvous.Magic.Length + 8, $"rank {Rank}: a peer's hello");
        int rank = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(TcpRendezvous.Magic.Length));
        int world = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(TcpRendezvous.Magic.Length + 4));
        if (!hello.AsSpan(0, TcpRendezvous.Magic.Length).SequenceEqual(TcpRendezvous.Magic) || world != WorldSize || rank < 1
            || rank >= Rank || _direct[rank] is not null)
        {
            stream.Dispose();
            throw new QzoException(
                $"rank {Rank}: a connection on its peer port that is not a lower rank of this run (rank {rank} of {world})");
        }
        _direct[rank] = stream;
    }

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
        string what = $"rank {Rank}: a frame from {from}";
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
        foreach (var direct in _direct) direct?.Dispose();
        _listener?.Stop();
    }
}
