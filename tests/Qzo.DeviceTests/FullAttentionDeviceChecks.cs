using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.DeviceTests.Kernels;
using Qzo.Numerics;
using Xunit.Abstractions;

using static Qzo.DeviceTests.DeviceUploads;

namespace Qzo.DeviceTests;

/// <summary>
/// The full attention's GPU paths (docs/kernels.md §6) against the CPU at the image models' real shapes, which the simulator
/// cannot reach: each case first checks which path serves it, so a silent fallback to the ILGPU kernel fails here. Large
/// cases compare a sample of query rows (<see cref="AttentionSample"/>); the tolerance is the unit case's
/// (GpuDiffusionKernelTests.AttentionMatchesTheCpu).
/// </summary>
public class FullAttentionDeviceChecks(ITestOutputHelper output)
{
    [Theory]
    [InlineData(2, 4429, 4429, 38, 64, false, 0f, "nvrtc")]  // SD3.5 Large's joint attention at 1024²
    [InlineData(2, 4429, 4429, 24, 64, false, 0f, "nvrtc")]  // SD3.5 Medium's
    [InlineData(2, 256, 256, 64, 64, true, 1f, "nvrtc")]     // T5-XXL: its position bias, unscaled scores
    [InlineData(2, 300, 1000, 4, 128, true, 0f, "nvrtc")]    // queries ≠ keys at the widest tensor-core head
    [InlineData(1, 333, 77, 6, 96, false, 0f, "nvrtc")]
    [InlineData(3, 150, 91, 5, 32, true, 0f, "nvrtc")]
    [InlineData(1, 16384, 16384, 1, 512, false, 0f, "gemm")] // the VAE's mid-block at 1024²: chunks of 2,730 queries
    [InlineData(2, 1000, 3000, 3, 256, true, 0f, "gemm")]    // three heads written between each other, with a bias
    public void FullAttentionMatchesTheCpu(int batch, int queries, int keys, int heads, int headDim, bool withBias, float scale,
                                           string path)
    {
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        string served = gpu.FullAttentionPath(batch, heads, headDim);
        output.WriteLine($"{batch}×{queries} over {keys} keys, {heads} heads × {headDim}{(withBias ? ", bias" : "")}: {served}");
        Assert.StartsWith(path, served);
        // Scaled scores with a standard deviation of 2, as in trained attention (neither flat nor one-hot): q·k sums headDim
        // products of variance (spread²/3)².
        float resolved = scale == 0 ? 1f / MathF.Sqrt(headDim) : scale;
        float spread = MathF.Sqrt(6f / (resolved * MathF.Sqrt(headDim)));
        var q = CaseInputs.Values(batch * queries * heads * headDim, 101, spread);
        var k = CaseInputs.Values(batch * keys * heads * headDim, 102, spread);
        var v = CaseInputs.Values(batch * keys * heads * headDim, 103);
        var bias = withBias ? CaseInputs.Values(heads * queries * keys, 104, 4f) : null;
        var sample = new AttentionSample(queries, keys, heads, headDim);

        using var qg = Bf16(gpu, q); using var kg = Bf16(gpu, k); using var vg = Bf16(gpu, v);
        using var bg = bias is null ? null : F32(gpu, bias);
        using var og = gpu.Allocate(DType.BF16, q.Length, MemoryCategory.Workspace);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        gpu.Attention(qg, kg, vg, bg, og, batch, queries, keys, heads, headDim, scale);
        gpu.Synchronize();
        double gpuMs = clock.Elapsed.TotalMilliseconds;
        var raw = new byte[q.Length * 2]; gpu.Download<byte>(og, raw);
        var all = new float[q.Length]; DTypes.ToSingle(DType.BF16, raw, all);
        var actual = sample.OfQueries(all);

        var qs = sample.OfQueries(q);
        using var qc = F32(cpu, qs); using var kc = F32(cpu, k); using var vc = F32(cpu, v);
        using var bc = bias is null ? null : F32(cpu, sample.OfBias(bias));
        using var oc = cpu.Allocate(DType.F32, qs.Length, MemoryCategory.Workspace);
        cpu.Attention(qc, kc, vc, bc, oc, batch, sample.Rows.Length, keys, heads, headDim, scale);
        var expected = new float[qs.Length]; cpu.Download<float>(oc, expected);

        int outside = 0; double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            worst = Math.Max(worst, error / (Math.Abs(expected[i]) + 0.02));
            if (error > 2.0 / 128 * Math.Abs(expected[i]) + 2e-3) outside++;
        }
        output.WriteLine($"  first call {gpuMs:F1} ms (compilation included); {sample.Rows.Length} query rows checked: " +
                         $"max |gpu − cpu| / (|cpu| + 0.02) = {worst:E2}, {outside} of {expected.Length} outside the tolerance");
        Assert.Equal(0, outside);
    }
}
