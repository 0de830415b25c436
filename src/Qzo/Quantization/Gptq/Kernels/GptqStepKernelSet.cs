using ILGPU;
using ILGPU.Runtime;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>The ILGPU kernels of GPTQ's steps (<see cref="GptqStepKernels"/>) on one accelerator, compiled on first use.</summary>
sealed class GptqStepKernelSet(Accelerator a)
{
    Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<double>, int, double>? _hessian;
    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<double>, int, double> Hessian =>
        _hessian ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<double>, int,
                                                   double>(GptqStepKernels.Hessian);

    Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<double>, int>? _weights;
    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<double>, int> Weights =>
        _weights ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<double>,
                                                   int>(GptqStepKernels.Weights);

    Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, GptqStepKernels.Shape, int>? _grids;
    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, GptqStepKernels.Shape,
                  int> Grids =>
        _grids ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>,
                                                 ArrayView<int>, GptqStepKernels.Shape, int>(GptqStepKernels.Grids);

    Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>,
           ArrayView<int>, ArrayView<double>, ArrayView<int>, GptqStepKernels.Shape, GptqStepKernels.Range>? _block;
    public Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>,
                  ArrayView<int>, ArrayView<double>, ArrayView<int>, GptqStepKernels.Shape, GptqStepKernels.Range> Block =>
        _block ??= a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<int>,
                                                 ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<double>, ArrayView<int>,
                                                 GptqStepKernels.Shape, GptqStepKernels.Range>(GptqStepKernels.Block);
}
