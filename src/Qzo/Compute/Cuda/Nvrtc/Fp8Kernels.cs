using Qzo.Compute.Cuda.Native;

namespace Qzo.Compute.Cuda.Nvrtc;

/// <summary>
/// fp8.cu, compiled by NVRTC on the first fp8 product (--compute fp8): the amax of a bf16 tensor and its e4m3 codes under
/// the per-tensor scaling, plain or transposed (Fp8E4M3 on the CPU gives the same bytes).
/// </summary>
sealed unsafe class Fp8Kernels : IDisposable
{
    const uint Block = 256;
    const uint AmaxBlocks = 1024; // grid-stride: enough blocks to fill an H100 several times over
    static readonly string[] Kernels = ["amax_bf16", "quantize_e4m3_bf16", "quantize_e4m3_transposed_bf16"];

    readonly NvrtcModule _module;
    readonly IntPtr _stream;

    Fp8Kernels(NvrtcModule module, IntPtr stream) => (_module, _stream) = (module, stream);

    public string Description => $"fp8 kernels {_module.Target}";

    /// <summary>The compiled kernels, or null with the reason (e4m3 tensor cores need sm_89: Ada, Hopper and later).</summary>
    public static Fp8Kernels? TryCreate(int deviceOrdinal, IntPtr stream, out string reason)
    {
        NativeLibraries.EnsureResolver();
        CudaModules.Check(CudaModules.DeviceGet(out int device, deviceOrdinal), "cuDeviceGet");
        CudaModules.Check(CudaModules.DeviceGetAttribute(out int major, CudaModules.ComputeCapabilityMajor, device), "compute capability");
        CudaModules.Check(CudaModules.DeviceGetAttribute(out int minor, CudaModules.ComputeCapabilityMinor, device), "compute capability");
        if (major * 10 + minor < 89)
        {
            reason = $"fp8 tensor cores need compute capability 8.9 or newer (Ada, Hopper); this GPU is {major}.{minor}";
            return null;
        }
        var module = NvrtcModule.TryLoad(deviceOrdinal, "fp8.cu", Kernels, minimumMajor: 8, [], out reason);
        return module is null ? null : new Fp8Kernels(module, stream);
    }

    /// <summary>Zeroes <paramref name="count"/> 32-bit words (the amax slots, before <see cref="Amax"/>).</summary>
    public void Zero(IntPtr words, int count) =>
        CudaModules.Check(CudaModules.MemsetD32Async(words, 0, (nuint)count, _stream), "cuMemsetD32Async");

    /// <summary>*amaxBits = max(*amaxBits, |x| as float bits) over x[0..count) (bf16).</summary>
    public void Amax(IntPtr x, long count, IntPtr amaxBits)
    {
        void** p = stackalloc void*[3];
        p[0] = &x; p[1] = &count; p[2] = &amaxBits;
        uint blocks = (uint)Math.Clamp((count / 8 + Block - 1) / Block, 1, AmaxBlocks);
        _module.Launch("amax_bf16", blocks, 1, Block, _stream, p);
    }

    /// <summary>codes[i] = e4m3(x[i]·448/amax) for count bf16 values (a multiple of 8); *scale = amax/448.</summary>
    public void Quantize(IntPtr x, long count, IntPtr amaxBits, IntPtr codes, IntPtr scale)
    {
        if (count % 8 != 0) throw new ArgumentException($"{count} values: the fp8 conversion takes multiples of 8", nameof(count));
        long count8 = count / 8;
        void** p = stackalloc void*[5];
        p[0] = &x; p[1] = &count8; p[2] = &amaxBits; p[3] = &codes; p[4] = &scale;
        _module.Launch1D("quantize_e4m3_bf16", Math.Max(count8, 1), Block, _stream, p);
    }

    /// <summary>codes[c, r] = e4m3(x[r, c]·448/amax) for x [rows, cols] (bf16); *scale = amax/448.</summary>
    public void QuantizeTransposed(IntPtr x, int rows, int cols, IntPtr amaxBits, IntPtr codes, IntPtr scale)
    {
        void** p = stackalloc void*[6];
        p[0] = &x; p[1] = &rows; p[2] = &cols; p[3] = &amaxBits; p[4] = &codes; p[5] = &scale;
        const uint tile = 32;
        _module.Launch2D("quantize_e4m3_transposed_bf16", ((uint)cols + tile - 1) / tile, ((uint)rows + tile - 1) / tile, tile, 8, _stream,
            p);
    }

    public void Dispose() => _module.Dispose();
}
