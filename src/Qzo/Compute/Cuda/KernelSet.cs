using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>Every kernel, compiled on first use and then kept (ILGPU compiles IL to PTX, the driver PTX to machine code).</summary>
sealed class KernelSet(Accelerator a)
{

    readonly Lazy<Action<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>, int>> _gatherRows = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>, int>(
        ElementwiseKernels.GatherRows));
    public Action<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>, int> GatherRows => _gatherRows.Value;
    readonly Lazy<Action<Index1D, ArrayView<ushort>, ArrayView<ushort>>> _siluMul =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>>(ElementwiseKernels.SiluMul));
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>> SiluMul => _siluMul.Value;
    readonly Lazy<Action<Index1D, ArrayView<ushort>>> _relu = new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>>(
        ElementwiseKernels.Relu));
    public Action<Index1D, ArrayView<ushort>> Relu => _relu.Value;
    readonly Lazy<Action<Index1D, ArrayView<ushort>, ArrayView<ushort>>> _add =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>>(ElementwiseKernels.Add));
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>> Add => _add.Value;
    readonly Lazy<Action<Index1D, ArrayView<uint>, ArrayView<uint>>> _siluMulPairs =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>, ArrayView<uint>>(ElementwiseKernels.SiluMulPairs));
    public Action<Index1D, ArrayView<uint>, ArrayView<uint>> SiluMulPairs => _siluMulPairs.Value;
    readonly Lazy<Action<Index1D, ArrayView<uint>, ArrayView<uint>>> _addPairs =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>, ArrayView<uint>>(ElementwiseKernels.AddPairs));
    public Action<Index1D, ArrayView<uint>, ArrayView<uint>> AddPairs => _addPairs.Value;
    readonly Lazy<Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, int>> _addBias =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, int>(ElementwiseKernels.AddBias));
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, int> AddBias => _addBias.Value;
    readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<float>, ulong, float, int>> _perturbedCopyToF32 = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ulong, float, int>(
        a.AcceleratorType == AcceleratorType.Cuda ? ElementwiseKernels.PerturbedCopyToF32<PtxFma>
        : ElementwiseKernels.PerturbedCopyToF32<CpuFma>));
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ulong, float, int> PerturbedCopyToF32 => _perturbedCopyToF32.Value;
    readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<ushort>, ulong, float, int>> _perturbedCopyToBf16 = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<ushort>, ulong, float, int>(
        a.AcceleratorType == AcceleratorType.Cuda ? ElementwiseKernels.PerturbedCopyToBf16<PtxFma>
        : ElementwiseKernels.PerturbedCopyToBf16<CpuFma>));
    public Action<Index1D, ArrayView<float>, ArrayView<ushort>, ulong, float, int> PerturbedCopyToBf16 => _perturbedCopyToBf16.Value;
    readonly Lazy<Action<Index1D, ArrayView<float>, ulong, int, float, float>> _zerothOrderUpdate = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ulong, int, float, float>(a.AcceleratorType == AcceleratorType.Cuda
        ? ElementwiseKernels.ZerothOrderUpdate<PtxFma> : ElementwiseKernels.ZerothOrderUpdate<CpuFma>));
    public Action<Index1D, ArrayView<float>, ulong, int, float, float> ZerothOrderUpdate => _zerothOrderUpdate.Value;
    readonly Lazy<Action<Index1D, ArrayView<float>, ulong, int, float, float>> _fillGaussianF32 = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ulong, int, float, float>(a.AcceleratorType == AcceleratorType.Cuda
        ? ElementwiseKernels.FillGaussianF32<PtxFma> : ElementwiseKernels.FillGaussianF32<CpuFma>));
    public Action<Index1D, ArrayView<float>, ulong, int, float, float> FillGaussianF32 => _fillGaussianF32.Value;
    readonly Lazy<Action<Index1D, ArrayView<ushort>, ulong, int, float, float>> _fillGaussianBf16 = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ulong, int, float, float>(a.AcceleratorType == AcceleratorType.Cuda
        ? ElementwiseKernels.FillGaussianBf16<PtxFma> : ElementwiseKernels.FillGaussianBf16<CpuFma>));
    public Action<Index1D, ArrayView<ushort>, ulong, int, float, float> FillGaussianBf16 => _fillGaussianBf16.Value;
    readonly Lazy<Action<Index1D, ArrayView<float>, ulong, int, float, float>> _fillUniform = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ulong, int, float, float>(ElementwiseKernels.FillUniform));
    public Action<Index1D, ArrayView<float>, ulong, int, float, float> FillUniform => _fillUniform.Value;
    readonly Lazy<Action<Index1D, ArrayView<int>, ulong, int>> _fillBits =
        new(() => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ulong, int>(ElementwiseKernels.FillBits));
    public Action<Index1D, ArrayView<int>, ulong, int> FillBits => _fillBits.Value;
    readonly Lazy<Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float>> _rmsNorm = new(
        () => a.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float>(RmsNormKernel.Run));
    public Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float> RmsNorm => _rmsNorm.Value;
    readonly Lazy<Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float, int,
        int>> _layerNorm =
        new(() => a.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float, int, int>(
        LayerNormKernel.Run));
    public Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, float, int,
        int> LayerNorm => _layerNorm.Value;
    readonly Lazy<Action<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>> _rope = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>(
        RopeKernel.Run));
    public Action<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int> Rope => _rope.Value;
    readonly Lazy<Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>,
        AttentionKernel.Shape>> _attention =
        new(() => a.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>,
        AttentionKernel.Shape>(AttentionKernel.Run));
    public Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>,
        AttentionKernel.Shape> Attention => _attention.Value;
    readonly Lazy<Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>,
        AttentionKernel.Shape,
        int>> _warpAttention =
        new(() => a.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>,
        AttentionKernel.Shape, int>(WarpAttentionKernel.WarpAttention));
    public Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>,
        AttentionKernel.Shape, int> WarpAttention => _warpAttention.Value;
    readonly Lazy<Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>,
        KvCacheKernels.Shape>> _cachedAttention =
        new(() => a.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>,
        KvCacheKernels.Shape>(KvCacheKernels.Attention));
    public Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>,
        KvCacheKernels.Shape> CachedAttention => _cachedAttention.Value;
    readonly Lazy<Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, int, int, int, int>> _appendToCache = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, int, int, int, int>(KvCacheKernels.Append));
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, int, int, int, int> AppendToCache => _appendToCache.Value;
    readonly Lazy<Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>> _crossEntropy = new(
        () => a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(CrossEntropyKernel.Run));
    public Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int> CrossEntropy => _crossEntropy.Value;
    readonly Lazy<Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, GemmFallbackKernel.Shape>> _gemmToBf16 = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, GemmFallbackKernel.Shape>(
        GemmFallbackKernel.ToBf16));
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, GemmFallbackKernel.Shape> GemmToBf16 =>
        _gemmToBf16.Value;
    readonly Lazy<Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, GemmFallbackKernel.Shape>> _gemmToF32 = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, GemmFallbackKernel.Shape>(
        GemmFallbackKernel.ToF32));
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, GemmFallbackKernel.Shape> GemmToF32 => _gemmToF32.Value;
    readonly Lazy<Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, int, float>> _rmsNormPairs = new(
        () => a.LoadStreamKernel<ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, int, float>(RmsNormKernel.Pairs));
    public Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, int, float> RmsNormPairs => _rmsNormPairs.Value;
    readonly Lazy<Action<Index1D, ArrayView<uint>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>> _ropePairs = new(
        () => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>(
        RopeKernel.Pairs));
    public Action<Index1D, ArrayView<uint>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int> RopePairs => _ropePairs.Value;
}
