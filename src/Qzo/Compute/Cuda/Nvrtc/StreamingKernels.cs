namespace Qzo.Compute.Cuda.Nvrtc;

/// <summary>
/// streaming_kernels.cu, compiled by NVRTC: z generation for the perturbed scales and the update (bit-identical to
/// the CPU's), and GPTQ dequantization four columns per thread. CudaBackend uses them where they apply and the ILGPU
/// kernels otherwise (another GPU, no NVRTC, QZO_KERNELS=ilgpu).
/// </summary>
sealed unsafe class StreamingKernels : IDisposable
{
    const uint Block = 256;
    static readonly string[] Kernels =
        ["perturbed_copy_f32", "perturbed_copy_bf16", "zeroth_order_update", "gptq_dequantize_2bit", "gptq_dequantize_4bit", "gptq_dequantize_8bit"];

    readonly NvrtcModule _module;
    readonly IntPtr _stream;

    public string Description { get; }

    StreamingKernels(NvrtcModule module, IntPtr stream)
    {
        _module = module;
        _stream = stream;
        Description = $"streaming kernels {module.Target}";
    }

    /// <summary>The compiled kernels, or null with the reason.</summary>
    public static StreamingKernels? TryCreate(int deviceOrdinal, IntPtr stream, out string reason)
    {
        // --fmad=false: z's double arithmetic must round exactly where the C# code rounds (DESIGN.md §4).
        var module = NvrtcModule.TryLoad(deviceOrdinal, "streaming_kernels.cu", Kernels, minimumMajor: 8, ["--fmad=false"], out reason);
        return module is null ? null : new StreamingKernels(module, stream);
    }

    public void PerturbedCopyToF32(IntPtr master, IntPtr output, long count, ulong seed, float scale, int tensor)
    {
        void** p = stackalloc void*[6];
        p[0] = &master; p[1] = &output; p[2] = &count; p[3] = &seed; p[4] = &scale; p[5] = &tensor;
        _module.Launch1D("perturbed_copy_f32", count, Block, _stream, p);
    }

    public void PerturbedCopyToBf16(IntPtr master, IntPtr output, long count, ulong seed, float scale, int tensor)
    {
        void** p = stackalloc void*[6];
        p[0] = &master; p[1] = &output; p[2] = &count; p[3] = &seed; p[4] = &scale; p[5] = &tensor;
        _module.Launch1D("perturbed_copy_bf16", count, Block, _stream, p);
    }

    public void ZerothOrderUpdate(IntPtr master, long count, ulong seed, int tensor, float step, float floor)
    {
        void** p = stackalloc void*[6];
        p[0] = &master; p[1] = &count; p[2] = &seed; p[3] = &tensor; p[4] = &step; p[5] = &floor;
        _module.Launch1D("zeroth_order_update", count, Block, _stream, p);
    }

    /// <summary>Bits 2, 4 and 8 with out_features a multiple of 4; the caller takes the ILGPU kernels otherwise.</summary>
    public static bool SupportsGptq(int bits, int outFeatures) => bits is 2 or 4 or 8 && outFeatures % 4 == 0;

    public void DequantizeGptq(IntPtr qweight, IntPtr qzeros, IntPtr scales, IntPtr gIdx, IntPtr weight,
                               int inFeatures, int outFeatures, int bits, bool zerosOffsetByOne)
    {
        int offset = zerosOffsetByOne ? 1 : 0;
        void** p = stackalloc void*[8];
        p[0] = &qweight; p[1] = &qzeros; p[2] = &scales; p[3] = &gIdx; p[4] = &weight; p[5] = &inFeatures; p[6] = &outFeatures; p[7] = &offset;
        long threads = (long)(inFeatures / (32 / bits)) * (outFeatures / 4);
        _module.Launch1D($"gptq_dequantize_{bits}bit", threads, Block, _stream, p);
    }

    public void Dispose() => _module.Dispose();
}
