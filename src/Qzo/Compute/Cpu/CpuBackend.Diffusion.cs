namespace Qzo.Compute.Cpu;

// PLACEHOLDER (branch h-ops only): every method throws until the operations of IBackend.Diffusion.cs are implemented.
public sealed partial class CpuBackend
{
    public void Conv2d(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor y, int batch, int cIn, int height, int width,
                       int cOut, int kernel, int stride, Padding2d padding) => throw new NotImplementedException();
    public void GroupNorm(DeviceTensor x, DeviceTensor weight, DeviceTensor bias, DeviceTensor y, int batch, int channels, int spatial,
                          int groups, float eps) => throw new NotImplementedException();
    public void UpsampleNearest2x(DeviceTensor x, DeviceTensor y, int planes, int height, int width) => throw new NotImplementedException();
    public void ActivationInPlace(DeviceTensor x, Activation activation, long count) => throw new NotImplementedException();
    public void Modulate(DeviceTensor x, MatrixView shift, MatrixView scale, DeviceTensor y, int batch, int tokens, int dim) =>
        throw new NotImplementedException();
    public void GatedAddInPlace(DeviceTensor x, MatrixView gate, DeviceTensor y, int batch, int tokens, int dim) =>
        throw new NotImplementedException();
    public void Attention(DeviceTensor q, DeviceTensor k, DeviceTensor v, DeviceTensor? bias, DeviceTensor output, int batch, int queries,
                          int keys, int heads, int headDim, float scale = 0) => throw new NotImplementedException();
    public void Permute(DeviceTensor x, DeviceTensor y, int[] shape, int[] order) => throw new NotImplementedException();
    public void Axpby(DeviceTensor x, DeviceTensor y, float a, float b, long count) => throw new NotImplementedException();
}
