using System.Runtime.InteropServices;

namespace Qzo.Distributed.Nccl;

/// <summary>The 128 opaque bytes rank 0 makes with ncclGetUniqueId and every rank passes, by value, to ncclCommInitRank.</summary>
[StructLayout(LayoutKind.Sequential, Size = Bytes)]
unsafe struct NcclUniqueId
{
    public const int Bytes = 128;
    public fixed byte Internal[Bytes];
}

/// <summary>
/// The NCCL 2 calls Qzo makes, declared from NCCL's public header (nccl.h): every call returns an ncclResult_t (0: success);
/// communicators are opaque pointers; counts are size_t; streams are cudaStream_t. Not yet run on a GPU (docs/distributed.md).
/// </summary>
static partial class NcclNative
{
    public const int Int8 = 0, Float64 = 8; // ncclDataType_t
    public const int Sum = 0;               // ncclRedOp_t

    [LibraryImport("nccl", EntryPoint = "ncclGetVersion")] public static partial int GetVersion(out int version);
    [LibraryImport("nccl", EntryPoint = "ncclGetUniqueId")] public static partial int GetUniqueId(out NcclUniqueId id);
    [LibraryImport("nccl", EntryPoint = "ncclCommInitRank")]
    public static partial int CommInitRank(out IntPtr comm, int worldSize, NcclUniqueId id, int rank);
    [LibraryImport("nccl", EntryPoint = "ncclCommDestroy")] public static partial int CommDestroy(IntPtr comm);
    [LibraryImport("nccl", EntryPoint = "ncclCommAbort")] public static partial int CommAbort(IntPtr comm);
    [LibraryImport("nccl", EntryPoint = "ncclAllReduce")]
    public static partial int AllReduce(IntPtr send, IntPtr receive, nuint count, int dataType, int op, IntPtr comm, IntPtr stream);
    [LibraryImport("nccl", EntryPoint = "ncclBroadcast")]
    public static partial int Broadcast(IntPtr send, IntPtr receive, nuint count, int dataType, int root, IntPtr comm, IntPtr stream);
    [LibraryImport("nccl", EntryPoint = "ncclSend")]
    public static partial int Send(IntPtr send, nuint count, int dataType, int peer, IntPtr comm, IntPtr stream);
    [LibraryImport("nccl", EntryPoint = "ncclRecv")]
    public static partial int Recv(IntPtr receive, nuint count, int dataType, int peer, IntPtr comm, IntPtr stream);
    [LibraryImport("nccl", EntryPoint = "ncclGroupStart")] public static partial int GroupStart();
    [LibraryImport("nccl", EntryPoint = "ncclGroupEnd")] public static partial int GroupEnd();
    [LibraryImport("nccl", EntryPoint = "ncclGetErrorString")] public static partial IntPtr GetErrorString(int result);

    public static void Check(int result, string call)
    {
        if (result == 0) return;
        string text = Marshal.PtrToStringUTF8(GetErrorString(result)) ?? $"ncclResult_t {result}";
        throw new QzoException($"NCCL: {call} failed: {text} (set NCCL_DEBUG=INFO for NCCL's own account)");
    }
}
