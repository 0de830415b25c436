using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;

namespace Qzo;

/// <summary>Where a model computes (the command's <c>--device</c>).</summary>
public enum ComputeDevice
{
    /// <summary>The first CUDA device when one is present, else the CPU.</summary>
    Auto,
    /// <summary>The CPU: plain C#, fp32 activations.</summary>
    Cpu,
    /// <summary>The first NVIDIA GPU (ILGPU, cuBLAS and NVRTC kernels, bf16 activations); an error when there is none.</summary>
    Cuda,
}

/// <summary>Makes the backend of a <see cref="ComputeDevice"/>, for the library and the command alike.</summary>
static class ComputeDevices
{
    public static IBackend CreateBackend(ComputeDevice device) => device switch
    {
        ComputeDevice.Cpu => new CpuBackend(),
        ComputeDevice.Cuda => CudaBackend.Create(),
        ComputeDevice.Auto => (IBackend?)CudaBackend.CreateIfPresent() ?? new CpuBackend(),
        _ => throw new ArgumentOutOfRangeException(nameof(device), device, null),
    };

    /// <summary>The command's spelling: cuda, cpu or auto.</summary>
    public static ComputeDevice Parse(string device) => device switch
    {
        "cpu" => ComputeDevice.Cpu,
        "cuda" => ComputeDevice.Cuda,
        "auto" => ComputeDevice.Auto,
        _ => throw new QzoException($"--device must be cuda, cpu or auto, got '{device}'"),
    };
}
