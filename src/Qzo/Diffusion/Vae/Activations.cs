using Qzo.Compute;

namespace Qzo.Diffusion.Vae;

/// <summary>Activation buffers of the VAE: allocated per block and disposed as soon as the next one exists.</summary>
static class Activations
{
    public static DeviceTensor New(IBackend backend, long count) =>
        backend.Allocate(backend.ComputeType, count, MemoryCategory.Activations);

    public static void Silu(IBackend backend, DeviceTensor x, long count) => backend.ActivationInPlace(x, VaeConfig.Activation, count);

    /// <summary>Disposes the previous stage's buffer once the next one exists, and returns the next one.</summary>
    public static DeviceTensor Replace(DeviceTensor previous, DeviceTensor next)
    {
        previous.Dispose();
        return next;
    }
}
