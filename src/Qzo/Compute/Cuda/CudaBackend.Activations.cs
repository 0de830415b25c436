using ILGPU;
using ILGPU.Runtime;

namespace Qzo.Compute.Cuda;

/// <summary>The activation operations of <see cref="IBackend"/>'s Activations part, as ILGPU kernels.</summary>
internal sealed partial class CudaBackend
{
    ActivationKernelSet? _activationKernels;

    ActivationKernelSet Activation => _activationKernels ??= new ActivationKernelSet(_accelerator);

    public void RmsNormOnePlusWeight(DeviceTensor x, DeviceTensor weight, DeviceTensor y, int rows, int dim, float eps) =>
        Timed("rmsnorm-1+w", () =>
            Activation.RmsNormOnePlusWeight(new KernelConfig(rows, ReductionGroup), V16(x), V16(weight), V16(y), dim, eps));

    public void GeluTanhMulInPlace(DeviceTensor gate, DeviceTensor up, long count) =>
        Timed("gelu-tanh-mul", () => Activation.GeluTanhMul(Count(count), V16(gate), V16(up)));

    public void SoftcapInPlace(DeviceTensor x, float cap, long count)
    {
        if (!(cap > 0)) throw new ArgumentOutOfRangeException(nameof(cap), "the soft cap must be positive");
        Timed("softcap", () => Activation.Softcap(Count(count), VF(x), cap));
    }

    public void ScaleInPlace(DeviceTensor x, float factor, long count) =>
        Timed("scale", () => Activation.Scale(Count(count), V16(x), factor));
}
