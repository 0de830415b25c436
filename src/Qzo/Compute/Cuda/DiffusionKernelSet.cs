using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;

namespace Qzo.Compute.Cuda;

/// <summary>The kernels of <see cref="IBackend"/>'s Diffusion part, compiled on first use.</summary>
sealed class DiffusionKernelSet(Accelerator a)
{
    Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ConvolutionKernels.Band>? _im2Col;
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ConvolutionKernels.Band> Im2Col =>
        _im2Col ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ConvolutionKernels.Band>(
            ConvolutionKernels.Im2Col);

    Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, ConvolutionKernels.Gemm>? _bandGemm;
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, ConvolutionKernels.Gemm> BandGemm =>
        _bandGemm ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>,
            ConvolutionKernels.Gemm>(ConvolutionKernels.BandGemm);

    Action<Index1D, ArrayView<float>, ArrayView<ushort>, ArrayView<ushort>, ConvolutionKernels.Store>? _storeBand;
    public Action<Index1D, ArrayView<float>, ArrayView<ushort>, ArrayView<ushort>, ConvolutionKernels.Store> StoreBand =>
        _storeBand ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<ushort>, ArrayView<ushort>,
            ConvolutionKernels.Store>(ConvolutionKernels.StoreBand);

    Action<KernelConfig, ArrayView<ushort>, ArrayView<float>, long, float>? _groupStatistics;
    public Action<KernelConfig, ArrayView<ushort>, ArrayView<float>, long, float> GroupStatistics =>
        _groupStatistics ??= a.LoadStreamKernel<ArrayView<ushort>, ArrayView<float>, long, float>(GroupNormKernels.Statistics);

    Action<Index1D, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, int, int>?
        _groupApply;
    public Action<Index1D, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, int, int, int>
        GroupApply => _groupApply ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>,
            ArrayView<ushort>, ArrayView<ushort>, int, int, int>(GroupNormKernels.Apply);

    Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, int, int>? _upsample;
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, int, int> Upsample =>
        _upsample ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, int, int>(
            DiffusionElementwiseKernels.UpsampleNearest2x);

    Action<Index1D, ArrayView<ushort>, int>? _activate;
    public Action<Index1D, ArrayView<ushort>, int> Activate =>
        _activate ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, int>(DiffusionElementwiseKernels.Activate);

    Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, DiffusionElementwiseKernels.Rows>?
        _modulate;
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, DiffusionElementwiseKernels.Rows>
        Modulate => _modulate ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>,
            ArrayView<ushort>, DiffusionElementwiseKernels.Rows>(DiffusionElementwiseKernels.Modulate);

    Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, DiffusionElementwiseKernels.Rows>? _gatedAdd;
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, DiffusionElementwiseKernels.Rows> GatedAdd =>
        _gatedAdd ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>,
            DiffusionElementwiseKernels.Rows>(DiffusionElementwiseKernels.GatedAdd);

    Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, float, float>? _axpbyBf16;
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, float, float> AxpbyBf16 =>
        _axpbyBf16 ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, float, float>(
            DiffusionElementwiseKernels.AxpbyBf16);

    Action<Index1D, ArrayView<float>, ArrayView<float>, float, float>? _axpbyF32;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, float, float> AxpbyF32 =>
        _axpbyF32 ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, float>(
            DiffusionElementwiseKernels.AxpbyF32);

    Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>,
        FullAttentionKernel.Shape>? _attention;
    public Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>,
        FullAttentionKernel.Shape> Attention => _attention ??= a.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>,
            ArrayView<float>, ArrayView<ushort>, FullAttentionKernel.Shape>(FullAttentionKernel.Run);

    Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, AttentionGemmKernels.SoftmaxRows>? _attentionSoftmax;
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, AttentionGemmKernels.SoftmaxRows> AttentionSoftmax =>
        _attentionSoftmax ??= a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<ushort>, AttentionGemmKernels.SoftmaxRows>(
            AttentionGemmKernels.Softmax);

    Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, StridedProduct>? _productToF32;
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, StridedProduct> ProductToF32 =>
        _productToF32 ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, StridedProduct>(
            AttentionGemmKernels.ProductToF32);

    Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, StridedProduct>? _productToBf16;
    public Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, StridedProduct> ProductToBf16 =>
        _productToBf16 ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, StridedProduct>(
            AttentionGemmKernels.ProductToBf16);

    /// <summary>The permutation kernel for elements of <typeparamref name="T"/>'s size (1, 2, 4 or 8 bytes).</summary>
    public Action<Index1D, ArrayView<T>, ArrayView<T>, LayoutKernels.Permutation> Permute<T>() where T : unmanaged =>
        (Action<Index1D, ArrayView<T>, ArrayView<T>, LayoutKernels.Permutation>)_permute.GetOrAdd(typeof(T), _ =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, LayoutKernels.Permutation>(LayoutKernels.Permute));

    /// <summary>The strided copy for elements of <typeparamref name="T"/>'s size.</summary>
    public Action<Index1D, ArrayView<T>, ArrayView<T>, long, int, long, int, int> CopyMatrix<T>() where T : unmanaged =>
        (Action<Index1D, ArrayView<T>, ArrayView<T>, long, int, long, int, int>)_copyMatrix.GetOrAdd(typeof(T), _ =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, long, int, long, int, int>(LayoutKernels.CopyMatrix));

    readonly System.Collections.Concurrent.ConcurrentDictionary<Type, Delegate> _permute = new(), _copyMatrix = new();
}
