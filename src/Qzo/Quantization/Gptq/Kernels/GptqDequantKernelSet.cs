using ILGPU;
using ILGPU.Runtime;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>The ILGPU GPTQ dequantization kernels (<see cref="GptqDequantKernel"/>) on one accelerator, compiled on first use.</summary>
sealed class GptqDequantKernelSet(Accelerator a)
{
    readonly Lazy<Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<ushort>,
                  GptqDequantKernel.Shape>> _dequantizeGptq =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>,
                                                ArrayView<ushort>,
                                                GptqDequantKernel.Shape>(GptqDequantKernel.Run));
    public Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<ushort>,
                  GptqDequantKernel.Shape> DequantizeGptq =>
        _dequantizeGptq.Value;

    readonly Lazy<Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<uint>,
                  GptqDequantKernel.Shape>> _dequantizeGptqPairs =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<uint>,
                                                GptqDequantKernel.Shape>(GptqDequantKernel.DequantizePairsPerWord));
    public Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<uint>, GptqDequantKernel.Shape>
        DequantizeGptqPairsPerWord => _dequantizeGptqPairs.Value;
}
