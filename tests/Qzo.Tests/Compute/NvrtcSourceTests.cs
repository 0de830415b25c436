using Qzo.Compute.Cuda.Nvrtc;

namespace Qzo.Tests.Compute;

/// <summary>
/// The CUDA C files travel inside the assembly and are compiled by NVRTC on the GPU machine (checked against the CPU
/// there: DeviceOnlyChecks.FlashAttentionMatchesTheCpu, FullAttentionDeviceChecks, the z and dequantize checks). Here: each
/// is embedded, defines every entry point the host looks up, and includes no header (NVRTC on a bare driver install has none).
/// </summary>
public class NvrtcSourceTests
{
    [Fact]
    public void TheAttentionSourceIsEmbeddedWithEveryEntryPoint()
    {
        string source = NvrtcModule.Source("flash_attention.cu");
        foreach (int headDim in new[] { 32, 64, 96, 128 })
        {
            Assert.Contains($"\nENTRY({headDim})", source);
            Assert.Contains($"\nFULL_ENTRY({headDim})", source);
        }
        foreach (var kernel in new[] { "flash_attention_hd##HD(", "full_attention_hd##HD(", "full_attention_bias_hd##HD(" })
            Assert.Contains(kernel, source);
        Assert.Contains("#ifndef FULL_ATTENTION", source); // the causal module leaves the full kernels out, and the reverse
        Assert.DoesNotContain("#include", source);
    }

    [Fact]
    public void TheStreamingKernelsSourceIsEmbeddedWithEveryEntryPoint()
    {
        string source = NvrtcModule.Source("streaming_kernels.cu");
        foreach (var kernel in new[]
                 {
                     "perturbed_copy_f32", "perturbed_copy_bf16", "zeroth_order_update", "add_bf16", "silu_mul_bf16", "rms_norm_bf16",
                     "rms_norm_short_bf16", "layer_norm_bf16", "rope_bf16", "aqlm_dequantize_in8",
                     "bnb4_dequantize_bf16",
                 })
            Assert.Contains($"extern \"C\" __global__ void {kernel}(", source);
        foreach (int bits in new[] { 2, 4, 8 }) Assert.Contains($"GPTQ_ENTRY({bits})", source);
        Assert.Contains("gptq_dequantize_##BITS##bit", source);
        Assert.DoesNotContain("#include", source);
    }
}
