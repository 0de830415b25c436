using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Qzo.Distributed;

/// <summary>
/// Rank 0 listens on MASTER_ADDR:MASTER_PORT, every other rank connects and says who it is and on which port it listens
/// for its peers; the connections that result (a star around rank 0) carry <see cref="TcpCommunicator"/>'s collectives,
/// and the NCCL unique id before NCCL takes over, and rank 0's answer tells every rank where the others listen (for
/// point-to-point messages between ranks other than 0). The wire format is in docs/distributed.md §Rendezvous.
/// </summary>
public static class TcpRendezvous
{
    internal static readonly byte[] Magic = "QZORDZV2"u8.ToArray();
    const byte Accepted = 0, Refused = 1;

    /// <summary>A TCP port on the loopback interface that nothing listens on now (for rank 0 of a run on this host).</summary>
    public static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <param name="timeout">how long rank 0 waits for every rank to connect, and another rank keeps trying to reach rank 0.</param>
    public static TcpCommunicator Connect(DistributedLaunch launch, TimeSpan timeout)
    {
        if (launch.WorldSize == 1) return new TcpCommunicator(0, 1, [], null, [], timeout);
        return launch.Rank == 0 ? Listen(launch, timeout) : Join(launch, timeout);
    }

    static TcpCommunicator Listen(DistributedLaunch launch, TimeSpan timeout)
    {
        var listener = new TcpListener(IPAddress.Any, launch.MasterPort);
        try { listener.Start(launch.WorldSize); }
        catch (SocketException e)
        {
            throw new QzoException(
                $"rendezvous: rank 0 cannot listen on port {launch.MasterPort} ({e.Message}); set MASTER_PORT to a free port");
        }
        var peers = new NetworkStream?[launch.WorldSize];
        var endpoints = new IPEndPoint[launch.WorldSize];
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            for (int joined = 1; joined < launch.WorldSize; joined++)
            {
                TcpClient client;
                try { client = listener.AcceptTcpClientAsync(deadline.Token).AsTask().GetAwaiter().GetResult(); }
                catch (OperationCanceledException)
                {
                    var missing = Enumerable.Range(1, launch.WorldSize - 1).Where(r => peers[r] is null);
                    throw new QzoException($"rendezvous: after {timeout.TotalSeconds:F0} s, rank(s) {string.Join(", ", missing)} of " +
                        $"{launch.WorldSize} had not connected to port {launch.MasterPort}");
                }
                client.NoDelay = true;
                var stream = client.GetStream();
                var hello = Read(stream, Magic.Length + 12, "rank 0: a joining rank's hello");
                int rank = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(Magic.Length));
                int world = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(Magic.Length + 4));
                int listening = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(Magic.Length + 8));
                string? problem = !hello.AsSpan(0, Magic.Length).SequenceEqual(Magic) ? "a connection that is not a Qzo rank"
                    : world != launch.WorldSize ? $"rank {rank} says the world has {world} ranks, rank 0 says {launch.WorldSize}"
                    : rank < 1 || rank >= world ? $"a rank numbered {rank}, outside 1..{world - 1}"
                    : peers[rank] is not null ? $"rank {rank} twice" : null;
                if (problem is not null)
                {
                    Refuse(stream, problem);
                    throw new QzoException($"rendezvous: rank 0 on port {launch.MasterPort} was reached by {problem}");
                }
                peers[rank] = stream;
                var seen = ((IPEndPoint)client.Client.RemoteEndPoint!).Address;
                endpoints[rank] = new IPEndPoint(seen.IsIPv4MappedToIPv6 ? seen.MapToIPv4() : seen, listening);
            }
            var answer = new List<byte>([.. Magic, Accepted]);
            for (int r = 1; r < launch.WorldSize; r++)
            {
                var address = Encoding.UTF8.GetBytes(endpoints[r].Address.ToString());
                answer.AddRange(Int32(endpoints[r].Port));
                answer.AddRange(Int32(address.Length));
                answer.AddRange(address);
            }
            foreach (var peer in peers.Skip(1)) peer!.Write(answer.ToArray());
            return new TcpCommunicator(0, launch.WorldSize, peers.Skip(1).Select(p => p!).ToArray(), null, endpoints, timeout);
        }
        catch
        {
            foreach (var peer in peers) peer?.Dispose();
            throw;
        }
        finally { listener.Stop(); }
    }

    static TcpCommunicator Join(DistributedLaunch launch, TimeSpan timeout)
    {
        var listener = new TcpListener(IPAddress.Any, 0); // where ranks above this one connect for point-to-point messages
        listener.Start(launch.WorldSize);
        try { return Join(launch, timeout, listener); }
        catch
        {
            listener.Stop();
            throw;
        }
    }

    static TcpCommunicator Join(DistributedLaunch launch, TimeSpan timeout, TcpListener listener)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TcpClient client;
        while (true)
        {
            client = new TcpClient { NoDelay = true };
            try
            {
                client.Connect(launch.MasterAddress, launch.MasterPort);
                break;
            }
            catch (SocketException e)
            {
                client.Dispose();
                if (clock.Elapsed > timeout) throw new QzoException($"rendezvous: rank {launch.Rank} could not reach rank 0 at " +
                    $"{launch.MasterAddress}:{launch.MasterPort} in {timeout.TotalSeconds:F0} s ({e.Message})");
                Thread.Sleep(100);
            }
        }
        var stream = client.GetStream();
        stream.Write([.. Magic, .. Int32(launch.Rank), .. Int32(launch.WorldSize), .. Int32(((IPEndPoint)listener.LocalEndpoint).Port)]);
        string where = $"rank {launch.Rank}: rank 0's answer";
        var answer = Read(stream, Magic.Length + 1, where);
        if (!answer.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new QzoException($"rendezvous: {launch.MasterAddress}:{launch.MasterPort} is not a Qzo rank 0");
        if (answer[^1] == Refused)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(Read(stream, 4, where));
            string reason = Encoding.UTF8.GetString(Read(stream, length, where));
            stream.Dispose();
            throw new QzoException($"rendezvous: rank 0 refused rank {launch.Rank}: {reason}");
        }
        var endpoints = new IPEndPoint[launch.WorldSize];
        for (int r = 1; r < launch.WorldSize; r++)
        {
            int port = BinaryPrimitives.ReadInt32LittleEndian(Read(stream, 4, where));
            int length = BinaryPrimitives.ReadInt32LittleEndian(Read(stream, 4, where));
            endpoints[r] = new IPEndPoint(IPAddress.Parse(Encoding.UTF8.GetString(Read(stream, length, where))), port);
        }
        return new TcpCommunicator(launch.Rank, launch.WorldSize, [stream], listener, endpoints, timeout);
    }

    internal static byte[] Int32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    static void Refuse(NetworkStream stream, string reason)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        var frame = new byte[Magic.Length + 1 + 4 + text.Length];
        Magic.CopyTo(frame, 0);
        frame[Magic.Length] = Refused;
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(Magic.Length + 1), text.Length);
        text.CopyTo(frame, Magic.Length + 5);
        try { stream.Write(frame); } catch (IOException) { }
        stream.Dispose();
    }

    internal static byte[] Read(Stream stream, int count, string what)
    {
        var buffer = new byte[count];
        try { stream.ReadExactly(buffer); }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            throw new QzoException($"{what}: the connection closed (did that rank stop?)");
        }
        return buffer;
    }
}
