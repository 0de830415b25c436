using Qzo.Compute;
using static Qzo.Compute.Cuda.CudaBackend;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// GPTQ's steps as ILGPU kernels (<see cref="GptqStepKernels"/>): one thread per element, or per output row for the
/// column loop.
/// </summary>
sealed partial class CudaGptqKernels
{
    public void Hessian(DeviceTensor sum, DeviceTensor inputs, DeviceTensor dead, int n, double damp, DeviceTensor h) =>
        Timed("gptq-hessian", () => _steps.Hessian(Count((long)n * n), VF(sum), VI(inputs), VI(dead), VD(h), n, damp));

    public void Weights(DeviceTensor weight, DeviceTensor inputs, DeviceTensor dead, int rows, int n, DeviceTensor w) =>
        Timed("gptq-weights", () => _steps.Weights(Count((long)rows * n), VF(weight), VI(inputs), VI(dead), VD(w), n));

    public void Grids(DeviceTensor weight, DeviceTensor dead, GptqStepShape shape, bool zeroDead, DeviceTensor scales, DeviceTensor zeros,
                      DeviceTensor status) =>
        Timed("gptq-grids", () => _steps.Grids(Count((long)shape.Groups * shape.Rows), VF(weight), VI(dead), VF(scales), VI(zeros),
                                               VI(status), Shape(shape), zeroDead ? 1 : 0));

    public void Block(DeviceTensor w, DeviceTensor u, DeviceTensor inputs, DeviceTensor groupOf, GptqStepShape shape, int start, int width,
                      bool findGrids, DeviceTensor scales, DeviceTensor zeros, DeviceTensor codes, DeviceTensor err, DeviceTensor status) =>
        Timed("gptq-block", () =>
            _steps.Block(shape.Rows, VD(w), VD(u), VI(inputs), VI(groupOf), VF(scales), VI(zeros), VI(codes), VD(err), VI(status),
                         Shape(shape), new GptqStepKernels.Range(start, width, findGrids ? 1 : 0)));

    static GptqStepKernels.Shape Shape(GptqStepShape s) => new(s.Rows, s.Columns, s.GroupSize, s.Bits, s.Sym ? 1 : 0);
}
