using Qzo.Compute.Cuda.Nvrtc;

namespace Qzo.Quantization.Aqlm.Kernels;

/// <summary>
/// AQLM dequantization of one in-group of 8 per thread, in CUDA C: the aqlm_dequantize_in8 entry point of the NVRTC
/// streaming module (Compute/Cuda/Nvrtc/streaming_kernels.cu, compiled once with the other streaming kernels).
/// </summary>
static unsafe class AqlmStreamingKernel
{
    /// <summary>AQLM with in-group 8 and out-group 1 (the Hub's 1x16 and 2x8); false (nothing done) otherwise.</summary>
    public static bool TryLaunch(StreamingKernels module, IntPtr codes, IntPtr codebooks, IntPtr scales, IntPtr weight,
                                 AqlmKernelShape shape)
    {
        if (shape.InGroupSize != 8 || shape.OutGroupSize != 1 || !StreamingKernels.Aligned(codebooks, weight)) return false;
        long groups = (long)shape.OutFeatures * shape.InGroups;
        int inGroups = shape.InGroups, codebookCount = shape.Codebooks, codebookSize = shape.CodebookSize,
            bytesPerCode = shape.BytesPerCode, codeMask = shape.CodebookSize - 1;
        void** p = stackalloc void*[10];
        p[0] = &codes; p[1] = &codebooks; p[2] = &scales; p[3] = &weight; p[4] = &groups; p[5] = &inGroups;
        p[6] = &codebookCount; p[7] = &codebookSize; p[8] = &bytesPerCode; p[9] = &codeMask;
        module.Launch1D("aqlm_dequantize_in8", groups, p);
        return true;
    }
}
