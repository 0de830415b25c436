using Qzo.Compute.Cuda.Nvrtc;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// GPTQ dequantization four columns per thread, in CUDA C: the gptq_dequantize_*bit entry points of the NVRTC streaming
/// module (Compute/Cuda/Nvrtc/streaming_kernels.cu, compiled once with the other streaming kernels).
/// </summary>
static unsafe class GptqStreamingKernel
{
    static readonly string[] EntryPoints = ["", "", "gptq_dequantize_2bit", "", "gptq_dequantize_4bit", "", "", "", "gptq_dequantize_8bit"];

    /// <summary>Bits 2, 4 and 8 with out_features a multiple of 4; the caller takes the ILGPU kernels otherwise.</summary>
    public static bool Supports(int bits, int outFeatures) => bits is 2 or 4 or 8 && outFeatures % 4 == 0;

    public static void Launch(StreamingKernels module, IntPtr qweight, IntPtr qzeros, IntPtr scales, IntPtr gIdx, IntPtr weight,
                              int inFeatures, int outFeatures, int bits, bool zerosOffsetByOne)
    {
        int offset = zerosOffsetByOne ? 1 : 0;
        void** p = stackalloc void*[8];
        p[0] = &qweight; p[1] = &qzeros; p[2] = &scales; p[3] = &gIdx; p[4] = &weight;
        p[5] = &inFeatures; p[6] = &outFeatures; p[7] = &offset;
        long threads = (long)(inFeatures / (32 / bits)) * (outFeatures / 4);
        module.Launch1D(EntryPoints[bits], threads, p);
    }
}
