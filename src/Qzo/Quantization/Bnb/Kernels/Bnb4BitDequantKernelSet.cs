using ILGPU;
using ILGPU.Runtime;

namespace Qzo.Quantization.Bnb.Kernels;

/// <summary>
/// The ILGPU bitsandbytes 4-bit dequantization kernels (<see cref="Bnb4BitDequantKernel"/>) on one accelerator, compiled
/// on first use.
/// </summary>
sealed class Bnb4BitDequantKernelSet(Accelerator a)
{
    readonly Lazy<Action<Index1D, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<uint>, int>> _dequantizeBnb4BitPairs =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<uint>, int>(
            Bnb4BitDequantKernel.Pairs));
    public Action<Index1D, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<uint>, int> DequantizeBnb4BitPairs =>
        _dequantizeBnb4BitPairs.Value;

    readonly Lazy<Action<Index1D, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, int>> _dequantizeBnb4Bit =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, int>(
            Bnb4BitDequantKernel.Run));
    public Action<Index1D, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, int> DequantizeBnb4Bit =>
        _dequantizeBnb4Bit.Value;
}
