using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;

namespace Qzo.Quantization.Aqlm.Kernels;

/// <summary>AQLM's kernels, registered by backend type.</summary>
internal static class AqlmKernels
{
    static readonly BackendKernels<IAqlmKernels> Table = new BackendKernels<IAqlmKernels>()
        .Register<CpuBackend>(_ => new CpuAqlmKernels())
        .Register<CudaBackend>(cuda => new CudaAqlmKernels(cuda));

    public static IAqlmKernels For(IBackend backend) => Table.For(backend);
}
