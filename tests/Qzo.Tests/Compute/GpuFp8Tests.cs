using Qzo.Compute;

namespace Qzo.Tests.Compute;

/// <summary>
/// IBackend.TryMatMulFp8 on the GPU backend against the CPU's emulation. On a GPU (QZO_TEST_DEVICE=cuda): the products
/// agree within the fp32 sums' reordering and the bf16 output's rounding (Fp8DeviceChecks also compares the codes bit for
/// bit). ILGPU's CPU accelerator has no fp8 product: there it must refuse with a clear error, not multiply in bf16 silently.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuFp8Tests
{
    [CoversBackendOperation(nameof(IBackend.TryMatMulFp8))]
    [Fact]
    public void Fp8ProductMatchesTheCpuOrIsRefusedClearly()
    {
        const int m = 24, n = 64, k = 96;
        using var pair = new BackendPair();
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(m * k, 1));
        var (wc, wg) = pair.Activation(BackendPair.RandomBf16(n * k, 2, 0.05f));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(n, 3));
        var (yc, yg) = pair.Zeros(m * n);
        if (!TestBackends.OnCuda)
        {
            var refused = Assert.Throws<QzoException>(() => pair.Gpu.QuantizedLinearPrecision = LinearPrecision.Fp8);
            Assert.Contains("--compute fp8 needs a CUDA GPU", refused.Message);
            Assert.Throws<QzoException>(() => pair.Gpu.TryMatMulFp8(xg, wg, false, bg, yg, m, n, k, accumulate: false));
            Assert.Equal(LinearPrecision.Native, pair.Gpu.QuantizedLinearPrecision);
            return;
        }
        pair.Gpu.QuantizedLinearPrecision = LinearPrecision.Fp8;
        Assert.True(pair.Cpu.TryMatMulFp8(xc, wc, false, bc, yc, m, n, k, accumulate: false));
        Assert.True(pair.Gpu.TryMatMulFp8(xg, wg, false, bg, yg, m, n, k, accumulate: false));
        pair.AssertClose(yc, yg, relative: 1.0 / 128, absolute: 1e-3);
    }
}
