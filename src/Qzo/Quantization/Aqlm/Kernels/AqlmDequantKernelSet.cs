using ILGPU;
using ILGPU.Runtime;

namespace Qzo.Quantization.Aqlm.Kernels;

/// <summary>The ILGPU AQLM dequantization kernels (<see cref="AqlmDequantKernel"/>) on one accelerator, compiled on first use.</summary>
sealed class AqlmDequantKernelSet(Accelerator a)
{
    readonly Lazy<Action<Index1D, ArrayView<byte>, ArrayView<uint>, ArrayView<float>, ArrayView<uint>,
                  AqlmDequantKernel.Shape>> _dequantizeAqlmPairs =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<uint>, ArrayView<float>, ArrayView<uint>,
                                                AqlmDequantKernel.Shape>(AqlmDequantKernel.Pairs));
    public Action<Index1D, ArrayView<byte>, ArrayView<uint>, ArrayView<float>, ArrayView<uint>,
                  AqlmDequantKernel.Shape> DequantizeAqlmPairs =>
        _dequantizeAqlmPairs.Value;

    readonly Lazy<Action<Index1D, ArrayView<byte>, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>,
                  AqlmDequantKernel.Shape>> _dequantizeAqlm =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>,
                                                AqlmDequantKernel.Shape>(AqlmDequantKernel.Run));
    public Action<Index1D, ArrayView<byte>, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>,
                  AqlmDequantKernel.Shape> DequantizeAqlm =>
        _dequantizeAqlm.Value;
}
