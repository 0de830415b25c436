using Qzo.Compute.Cuda.Nvrtc;

namespace Qzo.Quantization.Bnb.Kernels;

/// <summary>
/// bitsandbytes 4-bit dequantization of 32 values per thread, in CUDA C: the bnb4_dequantize_bf16 entry point of the
/// NVRTC streaming module (Compute/Cuda/Nvrtc/streaming_kernels.cu); the same products and rounding as
/// <see cref="Bnb4BitDequantKernel"/>, so the same bits.
/// </summary>
static unsafe class Bnb4BitStreamingKernel
{
    /// <summary>Counts and block sizes that are multiples of 32 on 16-byte-aligned buffers; false (nothing done) otherwise.</summary>
    public static bool TryLaunch(StreamingKernels module, IntPtr packed, IntPtr code, IntPtr absmax, IntPtr weight,
                                 Bnb4BitKernelShape shape)
    {
        if (shape.Count % 32 != 0 || shape.BlockSize % 32 != 0 || !StreamingKernels.Aligned(packed, weight)) return false;
        long count32 = shape.Count / 32;
        int blockSize = shape.BlockSize;
        void** p = stackalloc void*[6];
        p[0] = &packed; p[1] = &code; p[2] = &absmax; p[3] = &weight; p[4] = &count32; p[5] = &blockSize;
        module.Launch1D("bnb4_dequantize_bf16", count32, p);
        return true;
    }
}
