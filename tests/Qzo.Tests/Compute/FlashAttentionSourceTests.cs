using Qzo.Compute.Cuda.Nvrtc;

namespace Qzo.Tests.Compute;

/// <summary>
/// The CUDA C of the tensor-core attention travels inside the assembly and is compiled by NVRTC on the GPU machine
/// (checked against the CPU there by DeviceOnlyChecks.FlashAttentionMatchesTheCpu). Here: it is embedded, declares
/// every entry point the host looks up, and includes no header (NVRTC on a bare driver install has none).
/// </summary>
public class FlashAttentionSourceTests
{
    [Fact]
    public void TheKernelSourceIsEmbeddedWithEveryEntryPoint()
    {
        string source = FlashAttention.Source();
        foreach (int headDim in new[] { 32, 64, 96, 128 }) Assert.Contains($"ENTRY({headDim})", source);
        Assert.Contains("flash_attention_hd##HD", source);
        Assert.DoesNotContain("#include", source);
    }
}
