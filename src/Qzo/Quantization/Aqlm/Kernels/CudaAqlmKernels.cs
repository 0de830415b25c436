using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute;
using Qzo.Compute.Cuda;
using Qzo.Numerics;
using static Qzo.Compute.Cuda.CudaBackend;

namespace Qzo.Quantization.Aqlm.Kernels;

/// <summary>
/// AQLM on the GPU backend: the NVRTC streaming kernel where it applies (<see cref="AqlmStreamingKernel"/>), else the
/// ILGPU kernels (<see cref="AqlmDequantKernel"/>), compiled on this backend's accelerator on first use.
/// </summary>
sealed class CudaAqlmKernels(CudaBackend backend) : IAqlmKernels
{
    readonly AqlmDequantKernelSet _kernels = new(backend.Accelerator);

    public void Dequantize(DeviceTensor codes, DeviceTensor codebooks, DeviceTensor scales, AqlmKernelShape shape,
                           Perturbation p, int scaleTensorIndex, DeviceTensor weight)
    {
        backend.Timed("dequantize", () =>
        {
            var effectiveScales = backend.EffectiveScales(scales, p, scaleTensorIndex, shape.OutGroups);
            var s = new AqlmDequantKernel.Shape(shape.InFeatures, shape.InGroups, shape.Codebooks, shape.CodebookSize, shape.InGroupSize,
                                                shape.OutGroupSize, shape.BytesPerCode, shape.CodebookSize - 1);
            if (backend.Streaming is { } streaming
                && AqlmStreamingKernel.TryLaunch(streaming, Ilgpu(codes).Pointer, Require(codebooks, DType.F16).Pointer,
                                                 effectiveScales.LoadEffectiveAddressAsPtr(), Require(weight, DType.BF16).Pointer, shape))
                return;
            long count = (long)shape.OutFeatures * shape.InFeatures;
            var bytes = Ilgpu(codes).View<byte>();
            var books = Require(codebooks, DType.F16).View<ushort>();
            if (shape.InGroupSize % 2 == 0)
                _kernels.DequantizeAqlmPairs(Count(count / 2), bytes, books.Cast<uint>(), effectiveScales, Pairs(weight, count), s);
            else _kernels.DequantizeAqlm(Count(count), bytes, books, effectiveScales, V16(weight), s);
        });
    }
}
