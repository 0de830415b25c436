using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>GPTQ's kernels, registered by backend type.</summary>
internal static class GptqKernels
{
    static readonly BackendKernels<IGptqKernels> Table = new BackendKernels<IGptqKernels>()
        .Register<CpuBackend>(cpu => new CpuGptqKernels(cpu))
        .Register<CudaBackend>(cuda => new CudaGptqKernels(cuda));

    public static IGptqKernels For(IBackend backend) => Table.For(backend);
}
