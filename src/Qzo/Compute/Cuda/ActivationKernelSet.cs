using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;

namespace Qzo.Compute.Cuda;

/// <summary>The kernels of <see cref="ActivationKernels"/>, compiled on first use.</summary>
sealed class ActivationKernelSet(Accelerator a)
{
    Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float>? _rmsNormOnePlusWeight;
    public Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float> RmsNormOnePlusWeight =>
        _rmsNormOnePlusWeight ??= a.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float>(
            ActivationKernels.RmsNormOnePlusWeight);

    Action<Index1D, ArrayView<ushort>, ArrayView<ushort>>? _geluTanhMul;
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>> GeluTanhMul =>
        _geluTanhMul ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>>(ActivationKernels.GeluTanhMul);

    Action<Index1D, ArrayView<float>, float>? _softcap;
    public Action<Index1D, ArrayView<float>, float> Softcap =>
        _softcap ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(ActivationKernels.Softcap);

    Action<Index1D, ArrayView<ushort>, float>? _scale;
    public Action<Index1D, ArrayView<ushort>, float> Scale =>
        _scale ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, float>(ActivationKernels.Scale);
}
