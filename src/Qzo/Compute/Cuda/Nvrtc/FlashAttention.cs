using System.Runtime.InteropServices;
using System.Text;
using Qzo.Compute.Cuda.Native;

namespace Qzo.Compute.Cuda.Nvrtc;

/// <summary>
/// The tensor-core attention of flash_attention.cu, compiled by NVRTC for the device in ILGPU's context and launched
/// on ILGPU's stream. Serves head_dim 32, 64, 96 and 128 on sm_80 and newer; everything else takes the ILGPU kernels.
/// </summary>
sealed unsafe class FlashAttention : IDisposable
{
    public const int QueryTile = 64, Threads = 128;
    static readonly int[] HeadDims = [32, 64, 96, 128];

    readonly IntPtr _module;
    readonly Dictionary<int, IntPtr> _functions = [];

    public string Description { get; }

    FlashAttention(byte[] cubin, string description)
    {
        fixed (byte* image = cubin) CudaModules.Check(CudaModules.ModuleLoadData(out _module, image), "cuModuleLoadData (flash attention)");
        foreach (int hd in HeadDims)
        {
            CudaModules.Check(CudaModules.ModuleGetFunction(out var function, _module, $"flash_attention_hd{hd}"), "cuModuleGetFunction");
            _functions[hd] = function;
        }
        Description = description;
    }

    /// <summary>The compiled kernels, or null with the reason (no NVRTC, an old GPU, a compile error).</summary>
    public static FlashAttention? TryCreate(int deviceOrdinal, out string reason)
    {
        try
        {
            NativeLibraries.EnsureResolver();
            CudaModules.Check(CudaModules.DeviceGet(out int device, deviceOrdinal), "cuDeviceGet");
            CudaModules.Check(CudaModules.DeviceGetAttribute(out int major, CudaModules.ComputeCapabilityMajor, device), "cuDeviceGetAttribute");
            CudaModules.Check(CudaModules.DeviceGetAttribute(out int minor, CudaModules.ComputeCapabilityMinor, device), "cuDeviceGetAttribute");
            if (major < 8) { reason = $"tensor-core attention needs sm_80 or newer, this GPU is sm_{major}{minor}"; return null; }
            NvrtcApi.nvrtcVersion(out int nvrtcMajor, out int nvrtcMinor);
            var cubin = Compile(Source(), $"sm_{major}{minor}");
            reason = "";
            return new FlashAttention(cubin, $"flash attention sm_{major}{minor} (NVRTC {nvrtcMajor}.{nvrtcMinor})");
        }
        catch (Exception e) when (e is QzoException or InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
        {
            reason = e.Message.Split('\n')[0];
            return null;
        }
    }

    public static string Source()
    {
        using var stream = typeof(FlashAttention).Assembly.GetManifestResourceStream("Qzo.Cuda.flash_attention.cu")
            ?? throw new InvalidOperationException("flash_attention.cu is not embedded in the assembly");
        return new StreamReader(stream).ReadToEnd();
    }

    static byte[] Compile(string source, string architecture)
    {
        Check(NvrtcApi.nvrtcCreateProgram(out var program, source, "flash_attention.cu", 0, IntPtr.Zero, IntPtr.Zero), "create");
        try
        {
            string[] options = [$"--gpu-architecture={architecture}", "--std=c++17"];
            var pointers = options.Select(o => Marshal.StringToCoTaskMemUTF8(o)).ToArray();
            int status;
            try { fixed (IntPtr* p = pointers) status = NvrtcApi.nvrtcCompileProgram(program, options.Length, p); }
            finally { foreach (var p in pointers) Marshal.FreeCoTaskMem(p); }
            if (status != 0) throw new InvalidOperationException($"NVRTC could not compile flash_attention.cu for {architecture}: {Log(program)}");
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

    public bool Supports(int headDim, int batch, int heads) => _functions.ContainsKey(headDim) && (long)batch * heads <= 65535;

    public void Launch(IntPtr q, IntPtr k, IntPtr v, IntPtr keyMask, IntPtr output,
                       int batch, int seq, int heads, int kvHeads, int headDim, int window, IntPtr stream)
    {
        float scaleLog2 = (float)(1.4426950408889634 / Math.Sqrt(headDim));
        void** parameters = stackalloc void*[10];
        parameters[0] = &q; parameters[1] = &k; parameters[2] = &v; parameters[3] = &keyMask; parameters[4] = &output;
        parameters[5] = &seq; parameters[6] = &heads; parameters[7] = &kvHeads; parameters[8] = &scaleLog2; parameters[9] = &window;
        uint tiles = (uint)((seq + QueryTile - 1) / QueryTile);
        CudaModules.Check(CudaModules.LaunchKernel(_functions[headDim], tiles, (uint)(batch * heads), 1, Threads, 1, 1, 0, stream, parameters, null),
                          $"launch of flash_attention_hd{headDim}");
    }

    public void Dispose() => CudaModules.ModuleUnload(_module);
}
