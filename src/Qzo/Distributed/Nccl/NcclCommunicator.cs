using System.Runtime.InteropServices;
using Qzo.Compute.Cuda.Native;

namespace Qzo.Distributed.Nccl;

/// <summary>
/// One rank per GPU over NCCL (libnccl.so.2): rank 0 makes the unique id, <see cref="TcpRendezvous"/> hands it to every
/// rank, and the collectives run on a stream of the device's primary context through a small device staging buffer (a
/// data-parallel step moves a few doubles). NVLink multicast (NVLS) is turned off before NCCL reads its environment.
/// WRITTEN FROM NCCL'S HEADER, NOT YET RUN ON A GPU (docs/distributed.md §Status).
/// </summary>
public sealed class NcclCommunicator : ICommunicator
{
    readonly IntPtr _comm, _context, _stream;
    readonly int _device;
    IntPtr _buffer;
    long _bufferBytes;
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
        CudaDriverForNccl.Check(CudaDriverForNccl.CtxSetCurrent(context), "cuCtxSetCurrent");
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
        Stage(MemoryMarshal.AsBytes(values), () => NcclNative.AllReduce(_buffer, _buffer, count, NcclNative.Float64, NcclNative.Sum, _comm,
            _stream), "ncclAllReduce");
    }

    public void Broadcast(Span<byte> data, int root)
    {
        if (data.IsEmpty) return;
        nuint count = (nuint)data.Length;
        Stage(data, () => NcclNative.Broadcast(_buffer, _buffer, count, NcclNative.Int8, root, _comm, _stream),
            "ncclBroadcast");
    }

    public void Barrier()
    {
        Span<double> one = [0];
        AllReduceSum(one);
    }

    /// <summary>
    /// Sends <paramref name="bytes"/> of device memory to <paramref name="peer"/>, which receives them with
    /// <see cref="Receive"/>; for the pipeline split (docs/distributed.md §Pipeline). The pointer must belong to the
    /// context that is current on the calling thread.
    /// </summary>
    public void Send(IntPtr devicePointer, long bytes, int peer) => Run(
        () => NcclNative.Send(devicePointer, (nuint)bytes, NcclNative.Int8, peer, _comm, _stream), $"ncclSend to rank {peer}");

    public void Receive(IntPtr devicePointer, long bytes, int peer) => Run(
        () => NcclNative.Recv(devicePointer, (nuint)bytes, NcclNative.Int8, peer, _comm, _stream), $"ncclRecv from rank {peer}");

    void Run(Func<int> call, string what)
    {
        CudaDriverForNccl.Check(CudaDriverForNccl.CtxSetCurrent(_context), "cuCtxSetCurrent");
        NcclNative.Check(NcclNative.GroupStart(), "ncclGroupStart");
        int result = call();
        NcclNative.Check(NcclNative.GroupEnd(), "ncclGroupEnd");
        NcclNative.Check(result, what);
        CudaDriverForNccl.Check(CudaDriverForNccl.StreamSynchronize(_stream), $"cuStreamSynchronize after {what}");
    }

    unsafe void Stage(Span<byte> host, Func<int> collective, string what)
    {
        CudaDriverForNccl.Check(CudaDriverForNccl.CtxSetCurrent(_context), "cuCtxSetCurrent");
        if (_bufferBytes < host.Length)
        {
            if (_buffer != IntPtr.Zero) CudaDriverForNccl.Check(CudaDriverForNccl.MemFree(_buffer), "cuMemFree");
            long size = Math.Max(4096, host.Length);
            CudaDriverForNccl.Check(CudaDriverForNccl.MemAlloc(out _buffer, (nuint)size), "cuMemAlloc");
            _bufferBytes = size;
        }
        fixed (byte* pointer = host)
        {
            CudaDriverForNccl.Check(CudaDriverForNccl.CopyToDevice(_buffer, (IntPtr)pointer, (nuint)host.Length), "cuMemcpyHtoD");
            NcclNative.Check(collective(), what);
            CudaDriverForNccl.Check(CudaDriverForNccl.StreamSynchronize(_stream), $"cuStreamSynchronize after {what}");
            CudaDriverForNccl.Check(CudaDriverForNccl.CopyToHost((IntPtr)pointer, _buffer, (nuint)host.Length), "cuMemcpyDtoH");
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CudaDriverForNccl.CtxSetCurrent(_context);
        NcclNative.CommDestroy(_comm);
        if (_buffer != IntPtr.Zero) CudaDriverForNccl.MemFree(_buffer);
        CudaDriverForNccl.StreamDestroy(_stream);
        CudaDriverForNccl.PrimaryCtxRelease(_device);
    }
}
