using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute;
using Qzo.Compute.Cuda;
using Qzo.Compute.Cuda.Nvrtc;
using Qzo.Numerics;
using static Qzo.Compute.Cuda.CudaBackend;

namespace Qzo.Quantization.Bnb.Kernels;

/// <summary>
/// bitsandbytes 4-bit on the GPU backend: the NVRTC streaming kernel where it applies (<see cref="Bnb4BitStreamingKernel"/>),
/// else the ILGPU kernels (<see cref="Bnb4BitDequantKernel"/>), compiled on first use.
/// </summary>
sealed class CudaBnb4BitKernels(CudaBackend backend) : IBnb4BitKernels
{
    readonly Bnb4BitDequantKernelSet _kernels = new(backend.Accelerator);

    public bool TryLinearFp8(DeviceTensor x, int rows, DeviceTensor packed, DeviceTensor code, DeviceTensor absmax,
                             Bnb4BitKernelShape shape, Perturbation p, int absmaxTensorIndex, DeviceTensor? bias, DeviceTensor y,
                             bool accumulate)
    {
        if (backend.Streaming is null || !Fp8Kernels.SupportsBnb4(shape.Count, shape.BlockSize)) return false;
        return backend.TryMatMulFp8(x, bias, y, rows, shape.OutFeatures, shape.InFeatures, accumulate, (kernels, codes, amax, scale) =>
        {
            var effectiveAbsmax = backend.EffectiveScales(absmax, p, absmaxTensorIndex, shape.Blocks);
            kernels.QuantizeBnb4(Ilgpu(packed).Pointer, Require(code, DType.F32).Pointer, effectiveAbsmax.LoadEffectiveAddressAsPtr(),
                                 shape.Count, shape.BlockSize, amax, codes, scale);
        });
    }

    public void Dequantize(DeviceTensor packed, DeviceTensor code, DeviceTensor absmax, Bnb4BitKernelShape shape,
                           Perturbation p, int absmaxTensorIndex, DeviceTensor weight)
    {
        backend.Timed("dequantize", () =>
        {
            var effectiveAbsmax = backend.EffectiveScales(absmax, p, absmaxTensorIndex, shape.Blocks);
            if (backend.Streaming is { } streaming
                && Bnb4BitStreamingKernel.TryLaunch(streaming, Ilgpu(packed).Pointer, Require(code, DType.F32).Pointer,
                                                    effectiveAbsmax.LoadEffectiveAddressAsPtr(), Require(weight, DType.BF16).Pointer,
                                                    shape))
                return;
            var bytes = Ilgpu(packed).View<byte>();
            if (shape.Count % 2 == 0)
                _kernels.DequantizeBnb4BitPairs(Count(shape.Count / 2), bytes, VF(code), effectiveAbsmax, Pairs(weight, shape.Count),
                                                shape.BlockSize);
            else _kernels.DequantizeBnb4Bit(Count(shape.Count), bytes, VF(code), effectiveAbsmax, V16(weight), shape.BlockSize);
        });
    }
}
