using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Aqlm.Kernels;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Bnb.Kernels;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.Tests.Compute;

/// <summary>Every GPU-backend kernel, on ILGPU's CPU accelerator, against the CPU reference backend.</summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuKernelTests
{
    [CoversBackendOperation(nameof(IBackend.PerturbedCopy))]
    [Fact]
    public void PerturbedCopyDrawsExactlyTheCpuDirection()
    {
        using var pair = new BackendPair();
        const int n = 3000;
        var master = BackendPair.RandomBf16(n, 1, 0.1f);
        var (mc, mg) = pair.Activation(master, f32: true);
        var (oc, og) = pair.Zeros(n, f32: true);
        var p = new Perturbation(0xABCDEF0123456789UL, 1e-3f);
        pair.Cpu.PerturbedCopy(mc, p, 7, oc, n);
        pair.Gpu.PerturbedCopy(mg, p, 7, og, n);
        Assert.Equal(pair.Read(oc), pair.Read(og));
        var (zc, zg) = pair.Zeros(n, f32: true);
        pair.Gpu.PerturbedCopy(zg, new Perturbation(42, 1f), 3, og, n);
        var z = pair.Read(og);
        for (int i = 0; i < n; i++) Assert.Equal(GaussianDirection.Z(42, 3, i), z[i]);
    }

    [CoversBackendOperation(nameof(IBackend.ZerothOrderUpdate))]
    [Fact]
    public void UpdateMatchesTheCpuBitForBitIncludingTheFloor()
    {
        using var pair = new BackendPair();
        const int n = 2000;
        var master = BackendPair.RandomBf16(n, 2, 0.01f).Select(Math.Abs).ToArray();
        var (mc, mg) = pair.Activation(master, f32: true);
        pair.Cpu.ZerothOrderUpdate(mc, 99, 4, 5e-3f, 0f, n);
        pair.Gpu.ZerothOrderUpdate(mg, 99, 4, 5e-3f, 0f, n);
        var cpu = pair.Read(mc);
        Assert.Equal(cpu, pair.Read(mg));
        Assert.Contains(0f, cpu);
    }

    [CoversBackendOperation(nameof(IBackend.SiluMulInPlace))]
    [CoversBackendOperation(nameof(IBackend.AddInPlace))]
    [CoversBackendOperation(nameof(IBackend.AddBiasInPlace))]
    [CoversBackendOperation(nameof(IBackend.EmbeddingGather))]
    [Fact]
    public void ElementwiseKernels()
    {
        // Each op from fresh bf16 inputs; the GPU rounds its result to bf16 once, so it is within half a bf16 ulp
        // of the CPU's fp32 result (1/256 relative), plus fp32 differences in exp.
        using var pair = new BackendPair();
        const int rows = 7, dim = 48, n = rows * dim;
        var gate = BackendPair.RandomBf16(n, 3, 4f);
        var up = BackendPair.RandomBf16(n, 4);
        var bias = BackendPair.RandomBf16(dim, 5);

        var (gc, gg) = pair.Activation(gate); var (uc, ug) = pair.Activation(up);
        pair.Cpu.SiluMulInPlace(gc, uc, n); pair.Gpu.SiluMulInPlace(gg, ug, n);
        pair.AssertClose(gc, gg, relative: 1.0 / 256, absolute: 1e-6);

        (gc, gg) = pair.Activation(gate);
        pair.Cpu.AddInPlace(gc, uc, n); pair.Gpu.AddInPlace(gg, ug, n);
        pair.AssertClose(gc, gg, relative: 1.0 / 256, absolute: 0);

        (gc, gg) = pair.Activation(gate);
        var (bc, bg) = pair.Activation(bias);
        pair.Cpu.AddBiasInPlace(gc, bc, rows, dim); pair.Gpu.AddBiasInPlace(gg, bg, rows, dim);
        pair.AssertClose(gc, gg, relative: 1.0 / 256, absolute: 0);

        (gc, gg) = pair.Activation(gate);
        var (ic, ig) = pair.Ints([6, 0, 3, 3]);
        var (oc, og) = pair.Zeros(4 * dim);
        pair.Cpu.EmbeddingGather(gc, ic, oc, 4, dim); pair.Gpu.EmbeddingGather(gg, ig, og, 4, dim);
        Assert.Equal(pair.Read(oc), pair.Read(og)); // a gather of bf16 values is exact
    }

    [CoversBackendOperation(nameof(IBackend.RmsNorm))]
    [Theory]
    [InlineData(45)]    // odd: one bf16 at a time
    [InlineData(600)]   // even: bf16 pairs, more pairs than threads in the group
    [InlineData(8192)]  // Llama-2-70B's hidden size: on CUDA, every chunk slot of the NVRTC kernel's threads
    public void RmsNormOfAnyWidth(int dim)
    {
        using var pair = new BackendPair();
        const int rows = 3;
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(rows * dim, 16, 3f));
        var (wc, wg) = pair.Activation(BackendPair.RandomBf16(dim, 17));
        var (yc, yg) = pair.Zeros(rows * dim);
        pair.Cpu.RmsNorm(xc, wc, yc, rows, dim, 1e-5f); pair.Gpu.RmsNorm(xg, wg, yg, rows, dim, 1e-5f);
        pair.AssertClose(yc, yg, relative: 2.0 / 128);
    }

    [CoversBackendOperation(nameof(IBackend.RmsNorm))]
    [Theory]
    [InlineData(64)]    // on CUDA, NVRTC's short-row kernel; SD3's q/k norms over 64-wide heads: eight threads a row
    [InlineData(256)]   // a whole warp a row
    public void RmsNormOfShortRowsAcrossBlocks(int dim)
    {
        using var pair = new BackendPair();
        const int rows = 40; // more than one 256-thread block of rows at both widths
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(rows * dim, 18, 3f));
        var (wc, wg) = pair.Activation(BackendPair.RandomBf16(dim, 19));
        var (yc, yg) = pair.Zeros(rows * dim);
        pair.Cpu.RmsNorm(xc, wc, yc, rows, dim, 1e-5f); pair.Gpu.RmsNorm(xg, wg, yg, rows, dim, 1e-5f);
        pair.AssertClose(yc, yg, relative: 2.0 / 128);
        pair.Gpu.RmsNorm(xg, wg, xg, rows, dim, 1e-5f); // in place, as the q/k norms run
        pair.AssertClose(yc, xg, relative: 2.0 / 128);
    }

    [CoversBackendOperation(nameof(IBackend.RmsNorm))]
    [CoversBackendOperation(nameof(IBackend.ApplyRope))]
    [Theory]
    [InlineData(16)]   // RoPE on bf16 pairs; on CUDA, NVRTC's eight pairs per thread
    [InlineData(128)]  // Llama's head_dim
    [InlineData(10)]   // head_dim not a multiple of 4: one rotation pair per thread
    public void RmsNormAndRope(int headDim)
    {
        using var pair = new BackendPair();
        const int rows = 5, heads = 3;
        int dim = heads * headDim;
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(rows * dim, 6, 3f));
        var (wc, wg) = pair.Activation(BackendPair.RandomBf16(dim, 7));
        var (yc, yg) = pair.Zeros(rows * dim);
        pair.Cpu.RmsNorm(xc, wc, yc, rows, dim, 1e-5f); pair.Gpu.RmsNorm(xg, wg, yg, rows, dim, 1e-5f);
        pair.AssertClose(yc, yg, relative: 2.0 / 128);

        var angles = Enumerable.Range(0, 9 * headDim / 2).Select(i => (float)(i * 0.37)).ToArray();
        var (cc, cg) = pair.Activation(angles.Select(MathF.Cos).ToArray(), f32: true);
        var (sc, sg) = pair.Activation(angles.Select(MathF.Sin).ToArray(), f32: true);
        var (pc, pg) = pair.Ints([0, 8, 3, 3, 1]);
        pair.Cpu.ApplyRope(yc, pc, cc, sc, rows, heads, headDim); pair.Gpu.ApplyRope(yg, pg, cg, sg, rows, heads, headDim);
        pair.AssertClose(yc, yg, relative: 3.0 / 128, absolute: 2e-2);
    }

    [CoversBackendOperation(nameof(IBackend.CausalAttention))]
    [Theory]
    [InlineData(2, 24, 4, 2, 16, 0)]
    [InlineData(2, 24, 4, 2, 16, 5)]    // warp kernel, window inside one query tile
    [InlineData(1, 33, 2, 1, 40, 0)]
    [InlineData(1, 40, 2, 1, 128, 7)]   // warp kernel, later tiles start past key 0
    [InlineData(1, 20, 1, 1, 160, 0)]
    [InlineData(1, 80, 1, 1, 136, 19)]  // fallback kernel: the second query tile (queries 64..79) starts at key 46
    public void AttentionWithGqaPaddingAndSlidingWindow(int batch, int seq, int heads, int kvHeads, int headDim, int window)
    {
        using var pair = new BackendPair();
        var (qc, qg) = pair.Activation(BackendPair.RandomBf16(batch * seq * heads * headDim, 8, 2f));
        var (kc, kg) = pair.Activation(BackendPair.RandomBf16(batch * seq * kvHeads * headDim, 9, 2f));
        var (vc, vg) = pair.Activation(BackendPair.RandomBf16(batch * seq * kvHeads * headDim, 10));
        // row b loses 3b keys at the end
        var mask = Enumerable.Range(0, batch * seq).Select(i => i % seq < seq - 3 * (i / seq) ? 1 : 0).ToArray();
        var (mc, mg) = pair.Ints(mask);
        var (oc, og) = pair.Zeros(batch * seq * heads * headDim);
        pair.Cpu.CausalAttention(qc, kc, vc, mc, oc, batch, seq, heads, kvHeads, headDim, window);
        pair.Gpu.CausalAttention(qg, kg, vg, mg, og, batch, seq, heads, kvHeads, headDim, window);
        pair.AssertClose(oc, og, relative: 2.0 / 128, absolute: 2e-3);
    }

    [CoversBackendOperation(nameof(IBackend.CachedAttention))]
    [Theory]
    [InlineData(2, 1, 37, 45, 4, 2, 16, 0)]     // a decode step, GQA, room left in the cache
    [InlineData(2, 1, 37, 45, 4, 2, 16, 5)]     // with a window
    [InlineData(2, 1, 150, 160, 2, 1, 32, 0)]   // row 1's first key tile is all padding
    [InlineData(2, 1, 150, 160, 2, 1, 32, 9)]   // the window starts in the second key tile
    [InlineData(1, 3, 140, 140, 2, 2, 40, 0)]   // three new tokens, head_dim 40: two warps per group, two key tiles
    [InlineData(2, 2, 20, 24, 1, 1, 136, 0)]    // head_dim 136: five warps, past the warp kernel's 128
    public void CachedAttentionWithGqaPaddingAndSlidingWindow(int batch, int newTokens, int cacheLength, int maxLength,
                                                              int heads, int kvHeads, int headDim, int window)
    {
        using var pair = new BackendPair();
        int kvLength = batch * maxLength * kvHeads * headDim;
        var (qc, qg) = pair.Activation(BackendPair.RandomBf16(batch * newTokens * heads * headDim, 21, 2f));
        var (kc, kg) = pair.Activation(BackendPair.RandomBf16(kvLength, 22, 2f));
        var (vc, vg) = pair.Activation(BackendPair.RandomBf16(kvLength, 23));
        // Row 1 is left-padded over its first 130 slots (a whole key tile of padding, where it has that many); slot 3 is a hole in row 0.
        var mask = Enumerable.Range(0, batch * maxLength).Select(i => (i / maxLength, i % maxLength) switch
        {
            (0, 3) => 0,
            (1, var j) when j < Math.Min(130, cacheLength - newTokens) => 0,
            _ => 1,
        }).ToArray();
        var (mc, mg) = pair.Ints(mask);
        var (oc, og) = pair.Zeros(batch * newTokens * heads * headDim);
        pair.Cpu.CachedAttention(qc, kc, vc, mc, oc, batch, newTokens, cacheLength, maxLength, heads, kvHeads, headDim, window);
        pair.Gpu.CachedAttention(qg, kg, vg, mg, og, batch, newTokens, cacheLength, maxLength, heads, kvHeads, headDim, window);
        pair.AssertClose(oc, og, relative: 2.0 / 128, absolute: 2e-3);
    }

    [CoversBackendOperation(nameof(IBackend.AppendToCache))]
    [Fact]
    public void AppendToCacheCopiesExactly()
    {
        using var pair = new BackendPair();
        const int batch = 3, count = 2, start = 5, maxLength = 9, width = 12;
        var (rc, rg) = pair.Activation(BackendPair.RandomBf16(batch * count * width, 24));
        var (cc, cg) = pair.Activation(BackendPair.RandomBf16(batch * maxLength * width, 25));
        pair.Cpu.AppendToCache(rc, cc, batch, count, start, maxLength, width);
        pair.Gpu.AppendToCache(rg, cg, batch, count, start, maxLength, width);
        Assert.Equal(pair.Read(cc), pair.Read(cg));
        Assert.NotEqual(pair.Read(cc), BackendPair.RandomBf16(batch * maxLength * width, 25));
    }

    [CoversBackendOperation(nameof(IBackend.LayerNorm))]
    [CoversBackendOperation(nameof(IBackend.ReluInPlace))]
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LayerNormWithAndWithoutAffineAndRelu(bool affine)
    {
        // The GPU rounds the fp32 result to bf16 once: half a bf16 ulp (1/256 relative) from the CPU's fp32.
        using var pair = new BackendPair();
        const int rows = 5, dim = 72;
        // rows with a non-zero mean
        var x = BackendPair.RandomBf16(rows * dim, 16, 3f).Select((v, i) => v + i % dim * 0.05f).Select(BackendPair.RoundBf16).ToArray();
        var (xc, xg) = pair.Activation(x);
        var (wc, wg) = pair.Activation(BackendPair.RandomBf16(dim, 17, 2f));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(dim, 18));
        var (yc, yg) = pair.Zeros(rows * dim);
        pair.Cpu.LayerNorm(xc, affine ? wc : null, affine ? bc : null, yc, rows, dim, 1e-5f);
        pair.Gpu.LayerNorm(xg, affine ? wg : null, affine ? bg : null, yg, rows, dim, 1e-5f);
        pair.AssertClose(yc, yg, relative: 1.0 / 256, absolute: 1e-5);

        pair.Cpu.LayerNorm(xc, affine ? wc : null, affine ? bc : null, xc, rows, dim, 1e-5f); // in place
        pair.Gpu.LayerNorm(xg, affine ? wg : null, affine ? bg : null, xg, rows, dim, 1e-5f);
        Assert.Equal(pair.Read(yc), pair.Read(xc));
        Assert.Equal(pair.Read(yg), pair.Read(xg));

        pair.Cpu.ReluInPlace(yc, rows * dim); pair.Gpu.ReluInPlace(yg, rows * dim);
        pair.AssertClose(yc, yg, relative: 1.0 / 256, absolute: 1e-5);
        Assert.Contains(0f, pair.Read(yg));
    }

    [CoversBackendOperation(nameof(IBackend.CrossEntropyRows))]
    [Fact]
    public void CrossEntropyRows()
    {
        using var pair = new BackendPair();
        const int rows = 6, vocab = 300;
        var (lc, lg) = pair.Activation(BackendPair.RandomBf16(rows * vocab, 11, 8f), f32: true);
        var (tc, tg) = pair.Ints([5, -100, 299, 0, 17, -1]);
        var (nc, ng) = pair.Zeros(rows, f32: true);
        pair.Cpu.CrossEntropyRows(lc, tc, nc, rows, vocab); pair.Gpu.CrossEntropyRows(lg, tg, ng, rows, vocab);
        pair.AssertClose(nc, ng, relative: 1e-5, absolute: 1e-5);
        Assert.Equal(0f, pair.Read(ng)[1]);
    }

    [CoversBackendOperation(typeof(IGptqKernels), nameof(IGptqKernels.Dequantize))]
    [Theory]
    [InlineData(2, 64, 64, 32, true)]
    [InlineData(3, 96, 64, 32, true)]
    [InlineData(4, 64, 96, 16, false)]
    [InlineData(8, 32, 40, 32, false)]
    public void GptqDequantizationWithPerturbation(int bits, int inF, int outF, int groupSize, bool offsetByOne)
    {
        using var pair = new BackendPair();
        int groups = inF / groupSize;
        var random = new Random(bits);
        var qweight = Enumerable.Range(0, inF * bits / 32 * outF).Select(_ => random.Next(int.MinValue, int.MaxValue)).ToArray();
        var qzeros = Enumerable.Range(0, groups * outF * bits / 32).Select(_ => random.Next(int.MinValue, int.MaxValue)).ToArray();
        var gIdx = Enumerable.Range(0, inF).Select(i => (i * 7 + 3) % groups).ToArray(); // act-order style
        var scales = BackendPair.RandomBf16(groups * outF, 12, 0.02f).Select(Math.Abs).ToArray();
        var (qc, qg) = pair.Ints(qweight); var (zc, zg) = pair.Ints(qzeros); var (gc, gg) = pair.Ints(gIdx);
        var (sc, sg) = pair.Activation(scales, f32: true);
        var (wc, wg) = pair.Zeros(inF * outF);
        var shape = new GptqKernelShape(inF, outF, groups, bits, offsetByOne);
        var p = new Perturbation(5, 1e-3f);
        GptqKernels.For(pair.Cpu).Dequantize(qc, zc, sc, gc, shape, p, 2, wc);
        GptqKernels.For(pair.Gpu).Dequantize(qg, zg, sg, gg, shape, p, 2, wg);
        pair.AssertClose(wc, wg, relative: 1.0 / 256, absolute: 1e-6);
    }

    [CoversBackendOperation(typeof(IBnb4BitKernels), nameof(IBnb4BitKernels.Dequantize))]
    [Theory]
    [InlineData(FourBitType.Nf4, 24, 40, 64, true)]
    [InlineData(FourBitType.Fp4, 7, 9, 32, true)]   // odd count: one value per thread
    [InlineData(FourBitType.Nf4, 16, 32, 128, false)]
    public void Bnb4BitDequantizationWithPerturbation(FourBitType type, int outF, int inF, int blockSize, bool perturbed)
    {
        using var pair = new BackendPair();
        var weight = FormatDequantizationTests.RandomWeight(outF * inF, outF);
        var linear = Bnb4BitLinearTensors.Quantize(weight, outF, inF, type, blockSize, doubleQuant: false, "float32");
        var (pc, pg) = pair.Bytes(linear.Packed, DType.U8);
        var (cc, cg) = pair.Activation(FourBitCode.For(type).Values.ToArray(), f32: true);
        var (ac, ag) = pair.Activation(linear.AbsmaxValues(), f32: true);
        var (wc, wg) = pair.Zeros(outF * inF);
        var shape = new Bnb4BitKernelShape(outF, inF, blockSize);
        var p = perturbed ? new Perturbation(6, 1e-3f) : Perturbation.None;
        Bnb4BitKernels.For(pair.Cpu).Dequantize(pc, cc, ac, shape, p, 4, wc);
        Bnb4BitKernels.For(pair.Gpu).Dequantize(pg, cg, ag, shape, p, 4, wg);
        pair.AssertClose(wc, wg, relative: 1.0 / 256, absolute: 0); // the same fp32 product, rounded once to bf16
    }

    [CoversBackendOperation(typeof(IAqlmKernels), nameof(IAqlmKernels.Dequantize))]
    [Theory]
    [InlineData(2, 8, 8, 1, 16, 32)]   // 2x8: bf16 pairs
    [InlineData(1, 16, 8, 1, 4, 16)]   // 1x16: a 65,536-entry codebook
    [InlineData(3, 3, 3, 2, 6, 9)]     // out groups of 2, an odd in-group: one weight per thread
    public void AqlmDequantizationWithPerturbation(int codebooks, int bits, int inGroup, int outGroup, int outF, int inF)
    {
        using var pair = new BackendPair();
        var scheme = new AqlmScheme(codebooks, bits, inGroup, outGroup);
        var random = new Random(bits);
        var codes = Enumerable.Range(0, outF / outGroup * (inF / inGroup) * codebooks)
            .Select(_ => random.Next(scheme.CodebookSize)).ToArray();
        var books = FormatDequantizationTests.RandomWeight(codebooks * scheme.CodebookSize * outGroup * inGroup, bits, 0.3f)
            .Select(v => (Half)v).ToArray();
        books[0] = (Half)3e-6f; books[1] = -Half.Epsilon; // fp16 subnormals widen exactly in the kernel too
        var (kc, kg) = pair.Bytes(AqlmCodes.Pack(codes, bits), scheme.CodeDType);
        var (bc, bg) = pair.Bytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(books.AsSpan()).ToArray(), DType.F16);
        var (sc, sg) = pair.Activation(Enumerable.Range(0, outF / outGroup).Select(i => 0.5f + 0.1f * i).ToArray(), f32: true);
        var (wc, wg) = pair.Zeros(outF * inF);
        var shape = new AqlmKernelShape(outF, inF, codebooks, bits, inGroup, outGroup);
        var p = new Perturbation(7, 1e-2f);
        AqlmKernels.For(pair.Cpu).Dequantize(kc, bc, sc, shape, p, 2, wc);
        AqlmKernels.For(pair.Gpu).Dequantize(kg, bg, sg, shape, p, 2, wg);
        pair.AssertClose(wc, wg, relative: 1.0 / 256, absolute: 0);
    }

    [CoversBackendOperation(nameof(IBackend.MatMulTransposedB))]
    [CoversBackendOperation(nameof(IBackend.MatMul))]
    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void FallbackGemm(bool transposedB, bool f32Output)
    {
        using var pair = new BackendPair();
        const int m = 9, n = 13, k = 40;
        var (ac, ag) = pair.Activation(BackendPair.RandomBf16(m * k, 13));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(n * k, 14));
        var (cc, cg) = pair.Activation(BackendPair.RandomBf16(m * n, 15), f32: f32Output);
        foreach (bool accumulate in new[] { true, false })
        {
            if (transposedB)
            {
                pair.Cpu.MatMulTransposedB(ac, bc, cc, m, n, k, accumulate); pair.Gpu.MatMulTransposedB(ag, bg, cg, m, n, k, accumulate);
            }
            else { pair.Cpu.MatMul(ac, bc, cc, m, n, k, accumulate); pair.Gpu.MatMul(ag, bg, cg, m, n, k, accumulate); }
            pair.AssertClose(cc, cg, relative: f32Output ? 1e-5 : 1.0 / 128, absolute: 1e-4);
        }
    }

    [CoversBackendOperation(nameof(IBackend.MatMulTransposedBAddBias))]
    [Theory]
    [InlineData(9, 13, 40)]
    [InlineData(70, 48, 64)]   // a multiple of 8 everywhere: the shapes cuBLASLt's bias epilogue takes on the GPU
    public void MatMulWithBiasMatchesTheCpu(int m, int n, int k)
    {
        // fp32 sums of k products in different orders, the bias added, then one bf16 rounding with cuBLASLt's epilogue, or a
        // rounding of the product and one of the sum without it: where product and bias cancel, the product's rounding (half a
        // bf16 step of |product|) dominates, so each element may be off by (|product| + |bias|)/128.
        using var pair = new BackendPair();
        var (ac, ag) = pair.Activation(BackendPair.RandomBf16(m * k, 16));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(n * k, 17));
        var (biasc, biasg) = pair.Activation(BackendPair.RandomBf16(n, 18, 4f));
        var (pc, _) = pair.Zeros(m * n);
        var (cc, cg) = pair.Zeros(m * n);
        pair.Cpu.MatMulTransposedB(ac, bc, pc, m, n, k);
        pair.Cpu.MatMulTransposedBAddBias(ac, bc, biasc, cc, m, n, k);
        pair.Gpu.MatMulTransposedBAddBias(ag, bg, biasg, cg, m, n, k);
        float[] product = pair.Read(pc), bias = pair.Read(biasc), expected = pair.Read(cc), actual = pair.Read(cg);
        for (int i = 0; i < m * n; i++)
        {
            Assert.Equal(product[i] + bias[i % n], expected[i], 1e-4f);
            double bound = (Math.Abs(product[i]) + Math.Abs(bias[i % n])) / 128 + 1e-4;
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"element {i}: GPU {actual[i]} vs CPU {expected[i]}");
        }
        Assert.Contains(product, v => Math.Abs(v) > 1e-2); // the product is there, not the bias alone
    }
}
