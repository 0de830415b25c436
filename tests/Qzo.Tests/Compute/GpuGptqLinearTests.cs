using Qzo.Compute;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.Tests.Compute;

/// <summary>
/// IGptqKernels.Linear on ILGPU's CPU accelerator against the CPU backend: dequantize + the GEMM (the fused kernel needs a
/// CUDA device, and is checked against the CPU there: tests/Qzo.DeviceTests/GptqFusedDeviceChecks).
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuGptqLinearTests
{
    [CoversBackendOperation(typeof(IGptqKernels), nameof(IGptqKernels.Linear))]
    [Theory]
    [InlineData(4, 64, 48, 32, 5, false, false)]
    [InlineData(4, 128, 40, 64, 3, true, true)]    // act-order g_idx, onto y's old values
    [InlineData(8, 32, 24, 32, 7, false, true)]
    public void GptqLinearWithPerturbation(int bits, int inF, int outF, int groupSize, int rows, bool actOrder, bool accumulate)
    {
        using var pair = new BackendPair();
        var (qc, qg, zc, zg, gc, gg, sc, sg, shape) = RandomGptqLayer.Create(pair, bits, inF, outF, groupSize, actOrder);
        var x = BackendPair.RandomBf16(rows * inF, 14);
        var (xc, xg) = pair.Activation(x);
        var (yc, yg) = pair.Activation(BackendPair.RandomBf16(rows * outF, 15));
        var before = pair.Read(yc);
        var (wc, wg) = pair.Zeros(inF * outF);
        var p = new Perturbation(9, -1e-3f);
        var gpu = (CudaGptqKernels)GptqKernels.For(pair.Gpu);
        gpu.Choice = GptqFusedChoice.Parse("on", () => throw new InvalidOperationException());
        Assert.Equal(GptqFusedChoice.DequantizeGemm, gpu.ProductFor(xg, rows, shape, yg)); // no CUDA device: the fallback
        if (bits == 4) Assert.Equal("not a CUDA device", gpu.FusedUnavailable);
        GptqKernels.For(pair.Cpu).Linear(xc, rows, qc, zc, sc, gc, shape, p, 2, wc, yc, accumulate);
        gpu.Linear(xg, rows, qg, zg, sg, gg, shape, p, 2, wg, yg, accumulate);

        // The GPU rounds each weight and the output to bf16 (2^-9 relative each), the CPU keeps fp32: per output, at most
        // 2^-8·Σ|x·w| (+ 2^-8·|y's old value|) apart, and a rounding of the result.
        float[] expected = pair.Read(yc), actual = pair.Read(yg), w = pair.Read(wc);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double magnitude = accumulate ? Math.Abs(before[r * outF + o]) : 0;
                for (int k = 0; k < inF; k++) magnitude += Math.Abs((double)x[r * inF + k] * w[k * outF + o]);
                double e = expected[r * outF + o], a = actual[r * outF + o];
                Assert.True(Math.Abs(a - e) <= Math.Abs(e) / 128 + magnitude / 256,
                            $"output [{r}, {o}]: GPU {a}, CPU {e}, Σ|x·w| {magnitude}");
            }
    }
}
