using Qzo.Compute.Cuda;

namespace Qzo.Tests;

/// <summary>
/// The GPU backend the GPU tests use: ILGPU's CPU accelerator in CI; the real CUDA device when
/// QZO_TEST_DEVICE=cuda (as tests/Qzo.DeviceTests sets on the GPU machine), so the same tests check both.
/// </summary>
static class TestBackends
{
    public static bool OnCuda => Environment.GetEnvironmentVariable("QZO_TEST_DEVICE") == "cuda";

    public static CudaBackend Gpu() => OnCuda ? CudaBackend.Create() : CudaBackend.CreateCpuSimulation();
}

/// <summary>
/// Tests on ILGPU's CPU accelerator run alone: its simulated threads wait at barriers by spinning, so
/// sharing two cores with other tests slows them down many times over.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GpuSimulatorCollection
{
    public const string Name = "GPU backend on ILGPU's CPU accelerator";
}
