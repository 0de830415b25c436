using System.Reflection;
using System.Runtime.InteropServices;

namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// Resolves the logical library names of our P/Invoke declarations to versioned sonames: CUDA 13 ships
/// libcublas.so.13 and no .12, earlier toolkits the reverse, and neither ships an unversioned name outside -dev packages.
/// NCCL may come from a Python wheel (nvidia-nccl-cu12's nvidia/nccl/lib) that no search path names: the file in
/// <see cref="NcclVariable"/> is tried first.
/// </summary>
static class NativeLibraries
{
    static readonly Dictionary<string, string[]> Candidates = new()
    {
        ["cublas"] = ["libcublas.so.13", "libcublas.so.12"],
        ["cublasLt"] = ["libcublasLt.so.13", "libcublasLt.so.12"],
        ["cuda"] = ["libcuda.so.1", "libcuda.so"],
        ["nvrtc"] = ["libnvrtc.so.13", "libnvrtc.so.12"],
        ["nccl"] = ["libnccl.so.2", "libnccl.so"],
    };

    /// <summary>The environment variable that names libnccl.so.2's path when it is not on the library search path.</summary>
    public const string NcclVariable = "QZO_NCCL_LIBRARY";

    static int _installed;

    public static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
    }

    /// <summary>
    /// Why a machine may show no CUDA device: ILGPU finds none, without saying why, when the driver's library is absent.
    /// </summary>
    public static string DriverState()
    {
        foreach (var file in Candidates["cuda"])
            if (NativeLibrary.TryLoad(file, out var handle))
            {
                NativeLibrary.Free(handle);
                return $"the NVIDIA driver ({file}) loads but reports no GPU";
            }
        return $"the NVIDIA driver's library {Candidates["cuda"][0]} is not installed or not on LD_LIBRARY_PATH";
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (!Candidates.TryGetValue(name, out var files)) return IntPtr.Zero;
        if (name == "nccl" && Environment.GetEnvironmentVariable(NcclVariable) is { Length: > 0 } given)
            return NativeLibrary.TryLoad(given, out var named) ? named
                : throw new QzoException($"{NcclVariable}={given}: cannot load that file as NCCL (is it libnccl.so.2, and does it exist?)");
        foreach (var file in files)
            if (NativeLibrary.TryLoad(file, out var handle)) return handle;
        throw new QzoException(
            $"cannot load {string.Join(" or ", files)}: put the CUDA libraries on LD_LIBRARY_PATH (e.g. /usr/local/cuda/lib64)" +
            (name == "nccl" ? $", or set {NcclVariable} to libnccl.so.2's path" : ""));
    }
}
