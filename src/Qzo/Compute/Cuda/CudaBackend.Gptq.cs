using Qzo.Compute.Cuda.Kernels;
using Qzo.Numerics;
using Qzo.Quantization.Gptq;

namespace Qzo.Compute.Cuda;

/// <summary>GPTQ's steps as ILGPU kernels (<see cref="GptqKernels"/>): one thread per element, or per output row for the column loop.</summary>
public sealed partial class CudaBackend
{
    public void GptqHessian(DeviceTensor sum, DeviceTensor inputs, DeviceTensor dead, int n, double damp, DeviceTensor h) => Timed("gptq-hessian", () =>
        Dense.Hessian(Count((long)n * n), VF(sum), VI(inputs), VI(dead), VD(h), n, damp));

    public void GptqWeights(DeviceTensor weight, DeviceTensor inputs, DeviceTensor dead, int rows, int n, DeviceTensor w) => Timed("gptq-weights", () =>
        Dense.Weights(Count((long)rows * n), VF(weight), VI(inputs), VI(dead), VD(w), n));

    public void GptqGrids(DeviceTensor weight, DeviceTensor dead, GptqStepShape shape, bool zeroDead, DeviceTensor scales, DeviceTensor zeros, DeviceTensor status) =>
        Timed("gptq-grids", () => Dense.Grids(Count((long)shape.Groups * shape.Rows), VF(weight), VI(dead), VF(scales), VI(zeros), VI(status), Shape(shape), zeroDead ? 1 : 0));

    public void GptqBlock(DeviceTensor w, DeviceTensor u, DeviceTensor inputs, DeviceTensor groupOf, GptqStepShape shape, int start, int width, bool findGrids,
                          DeviceTensor scales, DeviceTensor zeros, DeviceTensor codes, DeviceTensor err, DeviceTensor status) => Timed("gptq-block", () =>
        Dense.Block(shape.Rows, VD(w), VD(u), VI(inputs), VI(groupOf), VF(scales), VI(zeros), VI(codes), VD(err), VI(status), Shape(shape),
                    new GptqKernels.Range(start, width, findGrids ? 1 : 0)));

    static GptqKernels.Shape Shape(GptqStepShape s) => new(s.Rows, s.Columns, s.GroupSize, s.Bits, s.Sym ? 1 : 0);
}
