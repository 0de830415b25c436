using Qzo.Compute;

namespace Qzo.Tests.Compute;

/// <summary>The activation kernels and attention's explicit scale, on ILGPU's CPU accelerator, against the CPU reference backend.</summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuActivationKernelTests
{
    [CoversBackendOperation(nameof(IBackend.RmsNormOnePlusWeight))]
    [Theory]
    [InlineData(45)]
    [InlineData(600)]
    public void RmsNormOnePlusWeight(int dim)
    {
        using var pair = new BackendPair();
        const int rows = 3;
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(rows * dim, 16, 3f));
        var (wc, wg) = pair.Activation(BackendPair.RandomBf16(dim, 17));
        var (yc, yg) = pair.Zeros(rows * dim);
        pair.Cpu.RmsNormOnePlusWeight(xc, wc, yc, rows, dim, 1e-6f); pair.Gpu.RmsNormOnePlusWeight(xg, wg, yg, rows, dim, 1e-6f);
        pair.AssertClose(yc, yg, relative: 1.0 / 128);
        pair.Cpu.RmsNormOnePlusWeight(xc, wc, xc, rows, dim, 1e-6f); // in place, as the q/k norms run
        pair.Gpu.RmsNormOnePlusWeight(xg, wg, xg, rows, dim, 1e-6f);
        pair.AssertClose(xc, xg, relative: 1.0 / 128);
    }

    [CoversBackendOperation(nameof(IBackend.GeluTanhMulInPlace))]
    [CoversBackendOperation(nameof(IBackend.SoftcapInPlace))]
    [CoversBackendOperation(nameof(IBackend.ScaleInPlace))]
    [Fact]
    public void GeluTanhMulSoftcapAndScale()
    {
        // One rounding to bf16 on the GPU: within half a bf16 ulp of the CPU's fp32 result, plus fp32 differences in exp.
        using var pair = new BackendPair();
        const int n = 7 * 48;
        var gate = BackendPair.RandomBf16(n, 3, 6f);
        var (gc, gg) = pair.Activation(gate); var (uc, ug) = pair.Activation(BackendPair.RandomBf16(n, 4));
        pair.Cpu.GeluTanhMulInPlace(gc, uc, n); pair.Gpu.GeluTanhMulInPlace(gg, ug, n);
        pair.AssertClose(gc, gg, relative: 1.0 / 256, absolute: 1e-6);

        var logits = BackendPair.RandomBf16(n, 5, 40f);
        var (lc, lg) = pair.Activation(logits, f32: true);
        pair.Cpu.SoftcapInPlace(lc, 15f, n); pair.Gpu.SoftcapInPlace(lg, 15f, n);
        pair.AssertClose(lc, lg, relative: 1e-5, absolute: 1e-5);

        (gc, gg) = pair.Activation(gate);
        float factor = BackendPair.RoundBf16(MathF.Sqrt(48));
        pair.Cpu.ScaleInPlace(gc, factor, n); pair.Gpu.ScaleInPlace(gg, factor, n);
        pair.AssertClose(gc, gg, relative: 1.0 / 256, absolute: 0);
    }

    [CoversBackendOperation(nameof(IBackend.CausalAttention))]
    [CoversBackendOperation(nameof(IBackend.CachedAttention))]
    [Theory]
    [InlineData(24, 4)]    // the warp kernel
    [InlineData(136, 0)]   // the fallback kernel
    public void AttentionWithAnExplicitScale(int headDim, int window)
    {
        using var pair = new BackendPair();
        const int batch = 2, seq = 19, heads = 4, kvHeads = 2;
        float scale = 1 / MathF.Sqrt(7);
        var (qc, qg) = pair.Activation(BackendPair.RandomBf16(batch * seq * heads * headDim, 8, 2f));
        var (kc, kg) = pair.Activation(BackendPair.RandomBf16(batch * seq * kvHeads * headDim, 9, 2f));
        var (vc, vg) = pair.Activation(BackendPair.RandomBf16(batch * seq * kvHeads * headDim, 10));
        var (mc, mg) = pair.Ints(Enumerable.Range(0, batch * seq).Select(i => i < seq + 3 ? 0 : 1).ToArray()); // row 1 left-padded
        var (oc, og) = pair.Zeros(batch * seq * heads * headDim);
        pair.Cpu.CausalAttention(qc, kc, vc, mc, oc, batch, seq, heads, kvHeads, headDim, window, scale);
        pair.Gpu.CausalAttention(qg, kg, vg, mg, og, batch, seq, heads, kvHeads, headDim, window, scale);
        pair.AssertClose(oc, og, relative: 2.0 / 128, absolute: 2e-3);
        pair.Cpu.CachedAttention(qc, kc, vc, mc, oc, batch, seq, seq, seq, heads, kvHeads, headDim, window, scale);
        pair.Gpu.CachedAttention(qg, kg, vg, mg, og, batch, seq, seq, seq, heads, kvHeads, headDim, window, scale);
        pair.AssertClose(oc, og, relative: 2.0 / 128, absolute: 2e-3);
    }
}
