using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;

namespace Qzo.Quantization.Bnb.Kernels;

/// <summary>bitsandbytes 4-bit's kernels, registered by backend type.</summary>
internal static class Bnb4BitKernels
{
    static readonly BackendKernels<IBnb4BitKernels> Table = new BackendKernels<IBnb4BitKernels>()
        .Register<CpuBackend>(_ => new CpuBnb4BitKernels())
        .Register<CudaBackend>(cuda => new CudaBnb4BitKernels(cuda));

    public static IBnb4BitKernels For(IBackend backend) => Table.For(backend);
}
