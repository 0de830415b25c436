using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;

namespace Qzo.Compute.Cuda;

/// <summary>Every kernel, compiled once per accelerator (ILGPU JIT-compiles IL to PTX on first load).</summary>
sealed class KernelSet(Accelerator a)
{
    public readonly Action<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>, int> GatherRows =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>, int>(ElementwiseKernels.GatherRows);
    public readonly Action<Index1D, ArrayView<ushort>, ArrayView<ushort>> SiluMul =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>>(ElementwiseKernels.SiluMul);
    public readonly Action<Index1D, ArrayView<ushort>, ArrayView<ushort>> Add =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>>(ElementwiseKernels.Add);
    public readonly Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, int> AddBias =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, int>(ElementwiseKernels.AddBias);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ulong, float, int> PerturbedCopyToF32 =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ulong, float, int>(ElementwiseKernels.PerturbedCopyToF32);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<ushort>, ulong, float, int> PerturbedCopyToBf16 =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<ushort>, ulong, float, int>(ElementwiseKernels.PerturbedCopyToBf16);
    public readonly Action<Index1D, ArrayView<float>, ulong, int, float, float> ZerothOrderUpdate =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ulong, int, float, float>(ElementwiseKernels.ZerothOrderUpdate);
    public readonly Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float> RmsNorm =
        a.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float>(RmsNormKernel.Run);
    public readonly Action<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int> Rope =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>(RopeKernel.Run);
    public readonly Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>, AttentionKernel.Shape> Attention =
        a.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>, AttentionKernel.Shape>(AttentionKernel.Run);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int> CrossEntropy =
        a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(CrossEntropyKernel.Run);
    public readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<ushort>, GptqDequantKernel.Shape> DequantizeGptq =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<ushort>, GptqDequantKernel.Shape>(GptqDequantKernel.Run);
    public readonly Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, GemmFallbackKernel.Shape> GemmToBf16 =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, GemmFallbackKernel.Shape>(GemmFallbackKernel.ToBf16);
    public readonly Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, GemmFallbackKernel.Shape> GemmToF32 =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, GemmFallbackKernel.Shape>(GemmFallbackKernel.ToF32);
}
