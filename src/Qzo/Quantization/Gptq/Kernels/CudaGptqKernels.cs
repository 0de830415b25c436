using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute;
using Qzo.Compute.Cuda;
using Qzo.Numerics;
using static Qzo.Compute.Cuda.CudaBackend;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// GPTQ on the GPU backend: the NVRTC streaming kernel where it applies (<see cref="GptqStreamingKernel"/>), else the
/// ILGPU kernels (<see cref="GptqDequantKernel"/>), compiled on this backend's accelerator on first use.
/// </summary>
sealed partial class CudaGptqKernels(CudaBackend backend) : IGptqKernels
{
    readonly GptqStepKernelSet _steps = new(backend.Accelerator);
    readonly GptqDequantKernelSet _kernels = new(backend.Accelerator);

    public void Dequantize(DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                           GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor weight)
    {
        Timed("dequantize", () =>
        {
            long scaleCount = (long)shape.Groups * shape.OutFeatures;
            var effectiveScales = backend.EffectiveScales(scales, p, scaleTensorIndex, scaleCount);
            if (backend.Streaming is { } streaming && GptqStreamingKernel.Supports(shape.Bits, shape.OutFeatures))
            {
                var scalePointer = effectiveScales.LoadEffectiveAddressAsPtr();
                GptqStreamingKernel.Launch(streaming, Ilgpu(qweight).Pointer, Ilgpu(qzeros).Pointer, scalePointer, Ilgpu(gIdx).Pointer,
                                           Require(weight, DType.BF16).Pointer, shape.InFeatures, shape.OutFeatures, shape.Bits,
                                           shape.ZerosOffsetByOne);
                return;
            }
            var kernelShape = new GptqDequantKernel.Shape(shape.InFeatures, shape.OutFeatures, shape.Bits,
                                                          shape.ZerosOffsetByOne ? 1 : 0);
            if (shape.Bits == 3)
                _kernels.DequantizeGptq(Count((long)shape.InFeatures * shape.OutFeatures), VI(qweight), VI(qzeros), effectiveScales,
                                        VI(gIdx), V16(weight), kernelShape);
            else
                _kernels.DequantizeGptqPairsPerWord(Count((long)shape.InFeatures * shape.Bits / 32 * shape.OutFeatures / 2), VI(qweight),
                                                    VI(qzeros), effectiveScales, VI(gIdx),
                                                    Pairs(weight, (long)shape.InFeatures * shape.OutFeatures), kernelShape);
        });
    }

    /// <summary>With QZO_PROFILE=1, the backend's per-operation timing (<see cref="CudaBackend.Profile"/>).</summary>
    void Timed(string name, Action work) => backend.Timed(name, work);
}
