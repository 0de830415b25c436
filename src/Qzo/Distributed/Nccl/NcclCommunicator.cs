using System.Runtime.InteropServices;
using Qzo.Compute.Cuda.Native;

namespace Qzo.Distributed.Nccl;

/// <summary>
/// One rank per GPU over NCCL (libnccl.so.2): rank 0 makes the unique id, <see cref="TcpRendezvous"/> hands it to every
/// rank, and every operation runs on a stream of the device's primary context through device staging buffers: host bytes
/// are copied in, NCCL moves them, and they are copied out (a data-parallel step moves a few doubles; a pipeline rank the
/// hidden states of a micro-batch, in chunks of <see cref="ChunkBytes"/>). The context current on the calling thread
/// before an operation (ILGPU's, which is not the primary one) is current again after it. NVLink multicast (NVLS) is
/// turned off before NCCL reads its environment. Status of what ran where: docs/distributed.md §Status.
/// </summary>
public sealed class NcclCommunicator : ICommunicator
{
    /// <summary>The most bytes one point-to-point transfer stages at a time, which bounds the staging buffers.</summary>
    public const int ChunkBytes = 64 << 20;

    readonly IntPtr _comm, _context, _stream;
    readonly int _device;
    readonly StagingBuffer _out = new(), _in = new();
    bool _disposed;

    NcclCommunicator(DistributedLaunch launch, int device, IntPtr context, IntPtr stream, IntPtr comm)
    {
        (Rank, WorldSize, _device, _context, _stream, _comm) = (launch.Rank, launch.WorldSize, device, context, stream, comm);
    }

    public int Rank { get; }
    public int WorldSize { get; }

    /// <param name="deviceOrdinal">the CUDA device of this rank among the process's visible ones.</param>
    /// <param name="timeout">how long the rendezvous waits for every rank.</param>
    public static NcclCommunicator Create(DistributedLaunch launch, int deviceOrdinal, TimeSpan timeout)
    {
        NativeEnvironment.Set("NCCL_NVLS_ENABLE", "0"); // the device machines' rule; NCCL reads it at its first call
        NativeLibraries.EnsureResolver();
        CudaDriverForNccl.Check(CudaDriverForNccl.Init(0), "cuInit");
        CudaDriverForNccl.Check(CudaDriverForNccl.DeviceGet(out int device, deviceOrdinal), $"cuDeviceGet({deviceOrdinal})");
        CudaDriverForNccl.Check(CudaDriverForNccl.PrimaryCtxRetain(out var context, device), "cuDevicePrimaryCtxRetain");
        using var current = new CurrentContext(context);
        CudaDriverForNccl.Check(CudaDriverForNccl.StreamCreate(out var stream, 0), "cuStreamCreate");

        var id = new byte[NcclUniqueId.Bytes];
        using (var tcp = TcpRendezvous.Connect(launch, timeout))
        {
            if (launch.Rank == 0)
            {
                NcclNative.Check(NcclNative.GetUniqueId(out var made), "ncclGetUniqueId");
                unsafe { new ReadOnlySpan<byte>(made.Internal, NcclUniqueId.Bytes).CopyTo(id); }
            }
            tcp.Broadcast(id, root: 0);
        }
        NcclUniqueId shared = default;
        unsafe { id.CopyTo(new Span<byte>(shared.Internal, NcclUniqueId.Bytes)); }
        NcclNative.Check(NcclNative.CommInitRank(out var comm, launch.WorldSize, shared, launch.Rank),
            $"ncclCommInitRank (rank {launch.Rank} of {launch.WorldSize}, device {deviceOrdinal})");
        return new NcclCommunicator(launch, device, context, stream, comm);
    }

    /// <summary>The library's version code (e.g. 22703 for 2.27.3); throws when libnccl.so.2 cannot be loaded.</summary>
    public static int Version()
    {
        NativeLibraries.EnsureResolver();
        NcclNative.Check(NcclNative.GetVersion(out int version), "ncclGetVersion");
        return version;
    }

    public void AllReduceSum(Span<double> values)
    {
        if (values.IsEmpty) return;
        nuint count = (nuint)values.Length;
        InPlace(MemoryMarshal.AsBytes(values), buffer => NcclNative.AllReduce(buffer, buffer, count, NcclNative.Float64, NcclNative.Sum,
            _comm, _stream), "ncclAllReduce");
    }

    public void Broadcast(Span<byte> data, int root)
    {
        if (root < 0 || root >= WorldSize) throw new ArgumentOutOfRangeException(nameof(root), $"root {root} of {WorldSize} ranks");
        if (data.IsEmpty) return;
        nuint count = (nuint)data.Length;
        InPlace(data, buffer => NcclNative.Broadcast(buffer, buffer, count, NcclNative.Int8, root, _comm, _stream), "ncclBroadcast");
    }

    public void Barrier()
    {
        Span<double> one = [0];
        AllReduceSum(one);
    }

    public void Send(ReadOnlySpan<byte> data, int peer)
    {
        this.CheckPeer(peer);
        Exchange(data, peer, [], peer);
    }

    public void Receive(Span<byte> data, int peer)
    {
        this.CheckPeer(peer);
        Exchange([], peer, data, peer);
    }

    /// <summary>
    /// Sends <paramref name="send"/> to rank <paramref name="to"/> and receives <paramref name="receive"/> from rank
    /// <paramref name="from"/> in one NCCL group (ncclGroupStart, ncclSend, ncclRecv, ncclGroupEnd), chunk by chunk, so the
    /// two may be this rank itself: what a one-GPU check runs. Either span may be empty.
    /// </summary>
    public unsafe void Exchange(ReadOnlySpan<byte> send, int to, Span<byte> receive, int from)
    {
        if (to < 0 || to >= WorldSize || from < 0 || from >= WorldSize) throw new ArgumentOutOfRangeException(nameof(to),
            $"rank {Rank}: an exchange with ranks {to} and {from} of {WorldSize}");
        using var current = new CurrentContext(_context);
        for (long done = 0; done < Math.Max(send.Length, receive.Length); done += ChunkBytes)
        {
            int sending = (int)Math.Clamp(send.Length - done, 0, ChunkBytes);
            int receiving = (int)Math.Clamp(receive.Length - done, 0, ChunkBytes);
            string what = $"rank {Rank}: {(sending > 0 ? $"ncclSend to rank {to}" : "")}{(sending > 0 && receiving > 0 ? " and " : "")}" +
                          $"{(receiving > 0 ? $"ncclRecv from rank {from}" : "")}";
            if (sending > 0)
                fixed (byte* pointer = send.Slice((int)done, sending)) _out.CopyIn(pointer, sending);
            if (receiving > 0) _in.Ensure(receiving);
            NcclNative.Check(NcclNative.GroupStart(), "ncclGroupStart");
            int sent = sending > 0 ? NcclNative.Send(_out.Pointer, (nuint)sending, NcclNative.Int8, to, _comm, _stream) : 0;
            int received = receiving > 0 ? NcclNative.Recv(_in.Pointer, (nuint)receiving, NcclNative.Int8, from, _comm, _stream) : 0;
            NcclNative.Check(NcclNative.GroupEnd(), $"ncclGroupEnd ({what})");
            NcclNative.Check(sent, what);
            NcclNative.Check(received, what);
            CudaDriverForNccl.Check(CudaDriverForNccl.StreamSynchronize(_stream), $"cuStreamSynchronize after {what}");
            if (receiving > 0)
                fixed (byte* pointer = receive.Slice((int)done, receiving)) _in.CopyOut(pointer, receiving);
        }
    }

    unsafe void InPlace(Span<byte> host, Func<IntPtr, int> collective, string what)
    {
        using var current = new CurrentContext(_context);
        fixed (byte* pointer = host)
        {
            _out.CopyIn(pointer, host.Length);
            NcclNative.Check(collective(_out.Pointer), what);
            CudaDriverForNccl.Check(CudaDriverForNccl.StreamSynchronize(_stream), $"cuStreamSynchronize after {what}");
            _out.CopyOut(pointer, host.Length);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        using (new CurrentContext(_context))
        {
            NcclNative.CommDestroy(_comm);
            _out.Dispose();
            _in.Dispose();
            CudaDriverForNccl.StreamDestroy(_stream);
        }
        CudaDriverForNccl.PrimaryCtxRelease(_device);
    }

    /// <summary>Makes a context current on this thread for a using block, then puts back the one that was.</summary>
    readonly struct CurrentContext : IDisposable
    {
        readonly IntPtr _previous;

        public CurrentContext(IntPtr context)
        {
            CudaDriverForNccl.Check(CudaDriverForNccl.CtxGetCurrent(out _previous), "cuCtxGetCurrent");
            CudaDriverForNccl.Check(CudaDriverForNccl.CtxSetCurrent(context), "cuCtxSetCurrent");
        }

        public void Dispose() => CudaDriverForNccl.CtxSetCurrent(_previous);
    }

    /// <summary>A device buffer in the primary context that grows to the largest transfer staged through it.</summary>
    sealed unsafe class StagingBuffer : IDisposable
    {
        long _bytes;

        public IntPtr Pointer { get; private set; }

        public void Ensure(long bytes)
        {
            if (_bytes >= bytes) return;
            if (Pointer != IntPtr.Zero) CudaDriverForNccl.Check(CudaDriverForNccl.MemFree(Pointer), "cuMemFree");
            Pointer = IntPtr.Zero;
            long size = Math.Max(4096, bytes);
            CudaDriverForNccl.Check(CudaDriverForNccl.MemAlloc(out var pointer, (nuint)size), "cuMemAlloc");
            (Pointer, _bytes) = (pointer, size);
        }

        public void CopyIn(byte* host, int bytes)
        {
            Ensure(bytes);
            CudaDriverForNccl.Check(CudaDriverForNccl.CopyToDevice(Pointer, (IntPtr)host, (nuint)bytes), "cuMemcpyHtoD");
        }

        public void CopyOut(byte* host, int bytes) =>
            CudaDriverForNccl.Check(CudaDriverForNccl.CopyToHost((IntPtr)host, Pointer, (nuint)bytes), "cuMemcpyDtoH");

        public void Dispose()
        {
            if (Pointer != IntPtr.Zero) CudaDriverForNccl.MemFree(Pointer);
            Pointer = IntPtr.Zero;
        }
    }
}
