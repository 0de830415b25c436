using Qzo.Compute;
using Qzo.Numerics;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Bnb.Kernels;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;

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

    /// <summary>
    /// QZO_FP8_GPTQ_CODES picks the GPTQ e4m3 codes kernel: words (unset, the default) or tiled; anything else is an error.
    /// </summary>
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("words", false)]
    [InlineData(" Tiled ", true)]
    public void Fp8CodesKernelChoiceParses(string? value, bool tiled) =>
        Assert.Equal(tiled, Qzo.Compute.Cuda.Nvrtc.Fp8Kernels.TiledCodesFrom(value));

    [Fact]
    public void Fp8CodesKernelChoiceRefusesOtherValues()
    {
        var error = Assert.Throws<QzoException>(() => Qzo.Compute.Cuda.Nvrtc.Fp8Kernels.TiledCodesFrom("tile"));
        Assert.Contains("QZO_FP8_GPTQ_CODES=tile", error.Message);
    }

    /// <summary>
    /// GPTQ's codes straight to e4m3: on a GPU the same output, bit for bit, as dequantizing to bf16 and converting that (the
    /// codes, the amax and the product equal); on ILGPU's CPU accelerator (no CUDA C) it declines and leaves y alone, and
    /// the CPU always declines (its fp8 product is the generic one).
    /// </summary>
    [CoversBackendOperation(typeof(IGptqKernels), nameof(IGptqKernels.TryLinearFp8))]
    [Theory]
    [InlineData(4, 128, 64, 32, 5, false, false)]
    [InlineData(4, 256, 96, 64, 17, true, true)] // act-order g_idx, onto y's old values
    [InlineData(8, 64, 32, 32, 3, false, false)]
    [InlineData(2, 128, 48, 64, 4, false, false)]
    public void GptqCodesStraightToFp8EqualTheDequantizedPath(int bits, int inF, int outF, int groupSize, int rows, bool actOrder,
                                                             bool accumulate)
    {
        using var pair = new BackendPair();
        var (qc, qg, zc, zg, gc, gg, sc, sg, shape) = RandomGptqLayer.Create(pair, bits, inF, outF, groupSize, actOrder);
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(rows * inF, 14));
        var initial = BackendPair.RandomBf16(rows * outF, 15);
        var (yc, yg) = pair.Activation(initial);
        var p = new Perturbation(9, -1e-3f);
        DeviceTensor? span = null;
        Assert.False(GptqKernels.For(pair.Cpu).TryLinearFp8(xc, rows, qc, zc, sc, gc, shape, p, 2, null, yc, accumulate, ref span));
        if (!TestBackends.OnCuda)
        {
            Assert.False(GptqKernels.For(pair.Gpu).TryLinearFp8(xg, rows, qg, zg, sg, gg, shape, p, 2, null, yg, accumulate, ref span));
            Assert.Equal(initial, pair.Read(yg));
            Assert.Null(span);
            return;
        }
        pair.Gpu.QuantizedLinearPrecision = LinearPrecision.Fp8;
        // the second probe reuses the span (the largest |q − zero| of each group) that the first one made
        foreach (var probe in new[] { p, new Perturbation(10, 1e-3f) })
        {
            pair.Gpu.Upload<byte>(yg, DTypes.FromSingle(DType.BF16, initial));
            Assert.True(GptqKernels.For(pair.Gpu).TryLinearFp8(xg, rows, qg, zg, sg, gg, shape, probe, 2, null, yg, accumulate, ref span));
            var straight = pair.Gpu.LastFp8Operands(rows, outF, inF);
            var (_, yDequantized) = pair.Activation(initial);
            var (_, weight) = pair.Zeros(inF * outF);
            GptqKernels.For(pair.Gpu).Dequantize(qg, zg, sg, gg, shape, probe, 2, weight);
            Assert.True(pair.Gpu.TryMatMulFp8(xg, weight, weightInputMajor: true, null, yDequantized, rows, outF, inF, accumulate));
            var converted = pair.Gpu.LastFp8Operands(rows, outF, inF);
            Assert.Equal(converted.Words, straight.Words);
            Assert.Equal(converted.Weight, straight.Weight);
            Assert.Equal(pair.Read(yDequantized), pair.Read(yg));
        }
        span!.Dispose();
    }

    /// <summary>
    /// bitsandbytes 4-bit's nibbles straight to e4m3, with the bias in the product's epilogue: on a GPU the same output, bit
    /// for bit, as dequantizing to bf16 and converting that; declined on ILGPU's CPU accelerator and on the CPU.
    /// </summary>
    [CoversBackendOperation(typeof(IBnb4BitKernels), nameof(IBnb4BitKernels.TryLinearFp8))]
    [Theory]
    [InlineData(64, 128, 64, 7, true)]
    [InlineData(96, 64, 32, 20, false)]
    public void Bnb4NibblesStraightToFp8EqualTheDequantizedPath(int outF, int inF, int blockSize, int rows, bool bias)
    {
        using var pair = new BackendPair();
        var shape = new Bnb4BitKernelShape(outF, inF, blockSize);
        var random = new Random(outF + inF);
        var packedBytes = new byte[shape.Count / 2];
        random.NextBytes(packedBytes);
        var (pc, pg) = pair.Bytes(packedBytes, DType.U8);
        var table = FourBitCode.Nf4.Values.ToArray();
        var (cc, cg) = pair.Activation(table, f32: true);
        var (ac, ag) = pair.Activation(BackendPair.RandomBf16((int)shape.Blocks, 3, 0.05f).Select(Math.Abs).ToArray(), f32: true);
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(rows * inF, 4));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(outF, 5));
        var initial = BackendPair.RandomBf16(rows * outF, 6);
        var (yc, yg) = pair.Activation(initial);
        var p = new Perturbation(11, 1e-3f);
        Assert.False(Bnb4BitKernels.For(pair.Cpu).TryLinearFp8(xc, rows, pc, cc, ac, shape, p, 0, bias ? bc : null, yc, false));
        if (!TestBackends.OnCuda)
        {
            Assert.False(Bnb4BitKernels.For(pair.Gpu).TryLinearFp8(xg, rows, pg, cg, ag, shape, p, 0, bias ? bg : null, yg, false));
            Assert.Equal(initial, pair.Read(yg));
            return;
        }
        pair.Gpu.QuantizedLinearPrecision = LinearPrecision.Fp8;
        Assert.True(Bnb4BitKernels.For(pair.Gpu).TryLinearFp8(xg, rows, pg, cg, ag, shape, p, 0, bias ? bg : null, yg, false));
        var straight = pair.Gpu.LastFp8Operands(rows, outF, inF);
        var (_, yDequantized) = pair.Activation(initial);
        var (_, weight) = pair.Zeros(outF * inF);
        Bnb4BitKernels.For(pair.Gpu).Dequantize(pg, cg, ag, shape, p, 0, weight);
        Assert.True(pair.Gpu.TryMatMulFp8(xg, weight, weightInputMajor: false, bias ? bg : null, yDequantized, rows, outF, inF, false));
        var converted = pair.Gpu.LastFp8Operands(rows, outF, inF);
        Assert.Equal(converted.Words, straight.Words);
        Assert.Equal(converted.Weight, straight.Weight);
        Assert.Equal(pair.Read(yDequantized), pair.Read(yg));
    }
}
