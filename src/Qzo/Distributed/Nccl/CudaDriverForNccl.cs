using System.Runtime.InteropServices;

namespace Qzo.Distributed.Nccl;

/// <summary>
/// The CUDA driver calls the NCCL communicator needs for its own staging buffer and stream, in the device's primary
/// context (the one the CUDA runtime inside NCCL adopts when it is current). Declared from the driver API (cuda.h).
/// </summary>
static partial class CudaDriverForNccl
{
    [LibraryImport("cuda", EntryPoint = "cuInit")] public static partial int Init(uint flags);
    [LibraryImport("cuda", EntryPoint = "cuDeviceGet")] public static partial int DeviceGet(out int device, int ordinal);
    [LibraryImport("cuda", EntryPoint = "cuDevicePrimaryCtxRetain")]
    public static partial int PrimaryCtxRetain(out IntPtr context, int device);
    [LibraryImport("cuda", EntryPoint = "cuDevicePrimaryCtxRelease_v2")] public static partial int PrimaryCtxRelease(int device);
    [LibraryImport("cuda", EntryPoint = "cuCtxSetCurrent")] public static partial int CtxSetCurrent(IntPtr context);
    [LibraryImport("cuda", EntryPoint = "cuCtxGetCurrent")] public static partial int CtxGetCurrent(out IntPtr context);
    [LibraryImport("cuda", EntryPoint = "cuStreamCreate")] public static partial int StreamCreate(out IntPtr stream, uint flags);
    [LibraryImport("cuda", EntryPoint = "cuStreamDestroy_v2")] public static partial int StreamDestroy(IntPtr stream);
    [LibraryImport("cuda", EntryPoint = "cuStreamSynchronize")] public static partial int StreamSynchronize(IntPtr stream);
    [LibraryImport("cuda", EntryPoint = "cuMemAlloc_v2")] public static partial int MemAlloc(out IntPtr pointer, nuint bytes);
    [LibraryImport("cuda", EntryPoint = "cuMemFree_v2")] public static partial int MemFree(IntPtr pointer);
    [LibraryImport("cuda", EntryPoint = "cuMemcpyHtoD_v2")] public static partial int CopyToDevice(IntPtr device, IntPtr host, nuint bytes);
    [LibraryImport("cuda", EntryPoint = "cuMemcpyDtoH_v2")] public static partial int CopyToHost(IntPtr host, IntPtr device, nuint bytes);

    public static void Check(int result, string call)
    {
        if (result != 0) throw new QzoException($"CUDA driver: {call} failed with CUresult {result} (NCCL communicator)");
    }
}
