using System.Runtime.InteropServices;
using System.Text;
using Qzo.Compute.Cuda.Native;

namespace Qzo.Compute.Cuda.Nvrtc;

/// <summary>
/// One embedded CUDA C file (Compute/Cuda/Nvrtc/*.cu), compiled by NVRTC for the GPU at hand, loaded into ILGPU's
/// context, its kernels looked up by name and launched on ILGPU's stream (docs/kernels.md §1).
/// </summary>
sealed unsafe class NvrtcModule : IDisposable
{
    readonly IntPtr _module;
    readonly Dictionary<string, IntPtr> _functions = [];
    readonly Dictionary<string, int> _sharedAllowed = [];

    /// <summary>"sm_90 (NVRTC 13.0)": what the kernels were compiled for and by.</summary>
    public string Target { get; }

    NvrtcModule(byte[] cubin, IEnumerable<string> kernels, string target)
    {
        fixed (byte* image = cubin) CudaModules.Check(CudaModules.ModuleLoadData(out _module, image), "cuModuleLoadData");
        foreach (var name in kernels)
        {
            CudaModules.Check(CudaModules.ModuleGetFunction(out var function, _module, name), $"cuModuleGetFunction({name})");
            _functions[name] = function;
        }
        Target = target;
    }

    /// <summary>
    /// The compiled file, or null with the reason (no NVRTC, a GPU older than <paramref name="minimumMajor"/>.x, a
    /// compile error). Extra NVRTC options come after the architecture.
    /// </summary>
    public static NvrtcModule? TryLoad(int deviceOrdinal, string file, IEnumerable<string> kernels, int minimumMajor, string[] options,
        out string reason)
    {
        try
        {
            NativeLibraries.EnsureResolver();
            var (device, major, minor) = CudaModules.ComputeCapability(deviceOrdinal);
            if (major < minimumMajor) { reason = $"{file} needs sm_{minimumMajor}0 or newer, this GPU is sm_{major}{minor}"; return null; }
            NvrtcApi.nvrtcVersion(out int nvrtcMajor, out int nvrtcMinor);
            string source = Source(file);
            string[] all = [$"--gpu-architecture=sm_{major}{minor}", "--std=c++17", .. options];
            string key = CompiledKernelCache.Key([file, source, string.Join(' ', all), $"NVRTC {nvrtcMajor}.{nvrtcMinor}",
                                                  $"driver {DriverVersion()}", DeviceName(device)]);
            var cubin = CompiledKernelCache.FromEnvironment().GetOrCompile(key, () => Compile(source, file, all), out bool cached);
            reason = "";
            return new NvrtcModule(cubin, kernels, $"sm_{major}{minor} (NVRTC {nvrtcMajor}.{nvrtcMinor}{(cached ? ", cached" : "")})");
        }
        catch (Exception e) when (e is QzoException or InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
        {
            reason = e.Message.Split('\n')[0];
            return null;
        }
    }

    static int DriverVersion()
    {
        CudaModules.Check(CudaModules.DriverGetVersion(out int version), "cuDriverGetVersion");
        return version;
    }

    static string DeviceName(int device)
    {
        var name = new byte[256];
        fixed (byte* n = name) CudaModules.Check(CudaModules.DeviceGetName(n, name.Length, device), "cuDeviceGetName");
        return Encoding.UTF8.GetString(name).TrimEnd('\0');
    }

    public static string Source(string file)
    {
        using var stream = typeof(NvrtcModule).Assembly.GetManifestResourceStream($"Qzo.Cuda.{file}")
            ?? throw new InvalidOperationException($"{file} is not embedded in the assembly");
        return new StreamReader(stream).ReadToEnd();
    }

    static byte[] Compile(string source, string file, string[] options)
    {
        Check(NvrtcApi.nvrtcCreateProgram(out var program, source, file, 0, IntPtr.Zero, IntPtr.Zero), "create");
        try
        {
            var pointers = options.Select(o => Marshal.StringToCoTaskMemUTF8(o)).ToArray();
            int status;
            try { fixed (IntPtr* p = pointers) status = NvrtcApi.nvrtcCompileProgram(program, options.Length, p); }
            finally { foreach (var p in pointers) Marshal.FreeCoTaskMem(p); }
            if (status != 0) throw new InvalidOperationException(
                $"NVRTC could not compile {file} ({string.Join(' ', options)}): {Log(program)}");
            Check(NvrtcApi.nvrtcGetCUBINSize(program, out var size), "cubin size");
            var cubin = new byte[(int)size];
            fixed (byte* c = cubin) Check(NvrtcApi.nvrtcGetCUBIN(program, c), "cubin");
            return cubin;
        }
        finally { NvrtcApi.nvrtcDestroyProgram(ref program); }
    }

    static string Log(IntPtr program)
    {
        NvrtcApi.nvrtcGetProgramLogSize(program, out var size);
        var log = new byte[(int)size];
        fixed (byte* l = log) NvrtcApi.nvrtcGetProgramLog(program, l);
        return Encoding.UTF8.GetString(log).TrimEnd('\0').Replace('\n', ' ');
    }

    static void Check(int status, string what)
    {
        if (status != 0) throw new InvalidOperationException($"NVRTC {what} failed with status {status}");
    }

    /// <param name="parameters">pointers to each kernel argument, in order</param>
    public void Launch(string kernel, uint gridX, uint gridY, uint block, IntPtr stream, void** parameters) =>
        CudaModules.Check(CudaModules.LaunchKernel(_functions[kernel], gridX, gridY, 1, block, 1, 1, 0, stream, parameters, null),
            $"launch of {kernel}");

    /// <summary>A launch of blocks of <paramref name="blockX"/> × <paramref name="blockY"/> threads.</summary>
    public void Launch2D(string kernel, uint gridX, uint gridY, uint blockX, uint blockY, IntPtr stream, void** parameters) =>
        CudaModules.Check(CudaModules.LaunchKernel(_functions[kernel], gridX, gridY, 1, blockX, blockY, 1, 0, stream, parameters, null),
            $"launch of {kernel}");

    /// <summary>
    /// A launch with <paramref name="sharedBytes"/> of dynamic shared memory; above the default 48 KiB the kernel is first allowed
    /// that much (once per kernel and size).
    /// </summary>
    public void Launch(string kernel, uint gridX, uint gridY, uint block, int sharedBytes, IntPtr stream, void** parameters)
    {
        var function = _functions[kernel];
        if (sharedBytes > 48 * 1024 && _sharedAllowed.GetValueOrDefault(kernel) < sharedBytes)
        {
            CudaModules.Check(CudaModules.FuncSetAttribute(function, CudaModules.MaxDynamicSharedSizeBytes, sharedBytes),
                $"cuFuncSetAttribute({kernel}, {sharedBytes} bytes of shared memory)");
            _sharedAllowed[kernel] = sharedBytes;
        }
        CudaModules.Check(CudaModules.LaunchKernel(function, gridX, gridY, 1, block, 1, 1, (uint)sharedBytes, stream, parameters, null),
            $"launch of {kernel}");
    }

    /// <summary>A one-dimensional launch of <paramref name="block"/>-thread blocks covering <paramref name="threads"/>.</summary>
    public void Launch1D(string kernel, long threads, uint block, IntPtr stream, void** parameters)
    {
        long blocks = (threads + block - 1) / block;
        if (blocks > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(threads),
            $"{threads} threads are too many for one launch of {kernel}");
        if (blocks > 0) Launch(kernel, (uint)blocks, 1, block, stream, parameters);
    }

    public void Dispose() => CudaModules.ModuleUnload(_module);
}
