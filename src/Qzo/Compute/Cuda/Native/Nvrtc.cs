using System.Runtime.InteropServices;

namespace Qzo.Compute.Cuda.Native;

/// <summary>The NVRTC entry points that turn CUDA C into a cubin for the device at hand (nvrtc.h, CUDA 12/13).</summary>
static unsafe partial class NvrtcApi
{
    [LibraryImport("nvrtc")] public static partial int nvrtcVersion(out int major, out int minor);
    [LibraryImport("nvrtc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvrtcCreateProgram(out IntPtr program, string source, string name, int headers, IntPtr headerSources,
        IntPtr headerNames);
    [LibraryImport("nvrtc")] public static partial int nvrtcCompileProgram(IntPtr program, int optionCount, IntPtr* options);
    [LibraryImport("nvrtc")] public static partial int nvrtcGetProgramLogSize(IntPtr program, out nuint size);
    [LibraryImport("nvrtc")] public static partial int nvrtcGetProgramLog(IntPtr program, byte* log);
    [LibraryImport("nvrtc")] public static partial int nvrtcGetCUBINSize(IntPtr program, out nuint size);
    [LibraryImport("nvrtc")] public static partial int nvrtcGetCUBIN(IntPtr program, byte* cubin);
    [LibraryImport("nvrtc")] public static partial int nvrtcDestroyProgram(ref IntPtr program);
}

/// <summary>Driver calls for loading an NVRTC cubin into ILGPU's context and launching it on ILGPU's stream.</summary>
static unsafe partial class CudaModules
{
    public const int ComputeCapabilityMajor = 75, ComputeCapabilityMinor = 76; // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_*

    [LibraryImport("cuda", EntryPoint = "cuDeviceGet")] public static partial int DeviceGet(out int device, int ordinal);
    [LibraryImport("cuda", EntryPoint = "cuDeviceGetAttribute")] public static partial int DeviceGetAttribute(out int value, int attribute,
        int device);
    [LibraryImport("cuda", EntryPoint = "cuDriverGetVersion")] public static partial int DriverGetVersion(out int version);
    [LibraryImport("cuda", EntryPoint = "cuDeviceGetName")] public static partial int DeviceGetName(byte* name, int length, int device);
    [LibraryImport("cuda", EntryPoint = "cuModuleLoadData")] public static partial int ModuleLoadData(out IntPtr module, byte* image);
    [LibraryImport("cuda", EntryPoint = "cuModuleUnload")] public static partial int ModuleUnload(IntPtr module);
    [LibraryImport("cuda", EntryPoint = "cuModuleGetFunction", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ModuleGetFunction(out IntPtr function, IntPtr module, string name);
    public const int MaxDynamicSharedSizeBytes = 8; // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    [LibraryImport("cuda", EntryPoint = "cuFuncSetAttribute")] public static partial int FuncSetAttribute(IntPtr function, int attribute,
        int value);
    [LibraryImport("cuda", EntryPoint = "cuLaunchKernel")]
    public static partial int LaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
                                           uint sharedBytes, IntPtr stream, void** parameters, void** extra);

    [LibraryImport("cuda", EntryPoint = "cuMemsetD32Async")]
    public static partial int MemsetD32Async(IntPtr destination, uint value, nuint count, IntPtr stream);

    /// <summary>The driver's handle of device <paramref name="ordinal"/> and its compute capability.</summary>
    public static (int Device, int Major, int Minor) ComputeCapability(int ordinal)
    {
        Check(DeviceGet(out int device, ordinal), "cuDeviceGet");
        Check(DeviceGetAttribute(out int major, ComputeCapabilityMajor, device), "cuDeviceGetAttribute");
        Check(DeviceGetAttribute(out int minor, ComputeCapabilityMinor, device), "cuDeviceGetAttribute");
        return (device, major, minor);
    }

    public static void Check(int status, string what)
    {
        if (status != 0) throw new InvalidOperationException($"CUDA driver {what} failed with CUresult {status}");
    }
}
