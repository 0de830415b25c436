using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;

namespace Qzo.Compute.Cuda;

/// <summary>
/// The dense linear algebra kernels of quantizers that solve on the device (<see cref="DenseKernels"/>), compiled on
/// first use.
/// </summary>
sealed class DenseKernelSet(Accelerator a)
{
    Action<Index1D, ArrayView<double>, int>? _identity, _zeroUpper;
    public Action<Index1D, ArrayView<double>, int> Identity => _identity ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, int>(
        DenseKernels.Identity);
    public Action<Index1D, ArrayView<double>, int> ZeroUpper => _zeroUpper ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>,
        int>(DenseKernels.ZeroUpper);

    Action<Index1D, ArrayView<double>, long>? _reverse;
    public Action<Index1D, ArrayView<double>, long> Reverse => _reverse ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, long>(
        DenseKernels.Reverse);

    Action<Index1D, ArrayView<ushort>, ArrayView<float>>? _bf16ToF32;
    public Action<Index1D, ArrayView<ushort>, ArrayView<float>> Bf16ToF32 =>
        _bf16ToF32 ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ushort>, ArrayView<float>>(DenseKernels.Bf16ToF32);

    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, long, int>? _dotPartials;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, long, int> DotPartials =>
        _dotPartials ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, long, int>(
            DenseKernels.DotPartials);

    Action<Index1D, ArrayView<float>, ArrayView<int>>? _firstNonFinite;
    public Action<Index1D, ArrayView<float>, ArrayView<int>> FirstNonFinite =>
        _firstNonFinite ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>>(DenseKernels.FirstNonFinite);

    Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseKernels.GemmShape>? _gemmF64;
    public Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseKernels.GemmShape> GemmF64 =>
        _gemmF64 ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>,
            DenseKernels.GemmShape>(DenseKernels.GemmF64);

    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _gemmF32;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> GemmF32 =>
        _gemmF32 ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(
            DenseKernels.GemmF32);

    Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _gram;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> Gram =>
        _gram ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(DenseKernels.Gram);

    Action<Index1D, ArrayView<double>, int, int, int, int>? _solvePanelRow;
    public Action<Index1D, ArrayView<double>, int, int, int, int> SolvePanelRow =>
        _solvePanelRow ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, int, int, int, int>(DenseKernels.SolvePanelRow);

    Action<Index1D, ArrayView<double>, ArrayView<double>, int>? _invertLowerColumn;
    public Action<Index1D, ArrayView<double>, ArrayView<double>, int> InvertLowerColumn =>
        _invertLowerColumn ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int>(
            DenseKernels.InvertLowerColumn);
}
