using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Tests.Compute;

/// <summary>
/// The image-model kernels (IBackend.Diffusion) and CopyMatrix on every element width, on ILGPU's CPU accelerator (or
/// the GPU with QZO_TEST_DEVICE=cuda) against the CPU reference backend. Inputs are bf16 values on both sides; the GPU
/// computes in fp32 and rounds once to bf16, so most results lie within half a bf16 ulp (1/256 relative) of the CPU's.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuDiffusionKernelTests
{
    [CoversBackendOperation(nameof(IBackend.Conv2d))]
    [Theory]
    [InlineData(2, 3, 7, 6, 4, 3, 1, 1, 1, 1, 1, true)]    // 3×3, one band
    [InlineData(2, 3, 7, 6, 4, 1, 1, 0, 0, 0, 0, false)]   // 1×1: x itself is the patch matrix
    [InlineData(1, 3, 8, 7, 5, 3, 2, 0, 1, 0, 1, true)]    // the VAE's downsampler: stride 2, padding right and bottom
    [InlineData(2, 8, 12, 16, 5, 3, 1, 1, 1, 1, 1, true)]  // 72·16 patch values per output row: bands of 3 rows on the simulator
    [InlineData(1, 8, 12, 16, 3, 3, 2, 0, 1, 0, 1, false)]
    public void Conv2dMatchesTheCpu(int batch, int cIn, int height, int width, int cOut, int kernel, int stride, int top, int bottom,
                                    int left, int right, bool withBias)
    {
        // fp32 sums of up to 72 products of values in ±1 on both sides, in different orders, then one bf16 rounding
        using var pair = new BackendPair();
        var padding = new Padding2d(top, bottom, left, right);
        var s = Conv2dShape.Of(batch, cIn, height, width, cOut, kernel, stride, padding);
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16((int)s.InputLength, 1));
        var (wc, wg) = pair.Activation(BackendPair.RandomBf16((int)s.WeightLength, 2, 0.5f));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(cOut, 3));
        var (yc, yg) = pair.Zeros((int)s.OutputLength);
        pair.Cpu.Conv2d(xc, wc, withBias ? bc : null, yc, batch, cIn, height, width, cOut, kernel, stride, padding);
        pair.Gpu.Conv2d(xg, wg, withBias ? bg : null, yg, batch, cIn, height, width, cOut, kernel, stride, padding);
        pair.AssertClose(yc, yg, relative: 1.0 / 256, absolute: 1e-5);
    }

    [CoversBackendOperation(nameof(IBackend.GroupNorm))]
    [Fact]
    public void GroupNormMatchesTheCpuInAndOutOfPlace()
    {
        using var pair = new BackendPair();
        const int batch = 2, channels = 8, spatial = 50, groups = 4;
        var x = BackendPair.RandomBf16(batch * channels * spatial, 4, 3f).Select((v, i) => BackendPair.RoundBf16(v + i % 7)).ToArray();
        var (xc, xg) = pair.Activation(x);
        var (wc, wg) = pair.Activation(BackendPair.RandomBf16(channels, 5));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(channels, 6));
        var (yc, yg) = pair.Zeros(x.Length);
        pair.Cpu.GroupNorm(xc, wc, bc, yc, batch, channels, spatial, groups, 1e-6f);
        pair.Gpu.GroupNorm(xg, wg, bg, yg, batch, channels, spatial, groups, 1e-6f);
        pair.AssertClose(yc, yg, relative: 1.0 / 256, absolute: 1e-4);
        pair.Cpu.GroupNorm(xc, wc, bc, xc, batch, channels, spatial, groups, 1e-6f);
        pair.Gpu.GroupNorm(xg, wg, bg, xg, batch, channels, spatial, groups, 1e-6f);
        pair.AssertClose(xc, xg, relative: 1.0 / 256, absolute: 1e-4);
    }

    [CoversBackendOperation(nameof(IBackend.UpsampleNearest2x))]
    [Fact]
    public void UpsampleIsExact()
    {
        using var pair = new BackendPair();
        const int planes = 3, height = 5, width = 7;
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(planes * height * width, 7));
        var (yc, yg) = pair.Zeros(planes * height * width * 4);
        pair.Cpu.UpsampleNearest2x(xc, yc, planes, height, width); pair.Gpu.UpsampleNearest2x(xg, yg, planes, height, width);
        Assert.Equal(pair.Read(yc), pair.Read(yg));
    }

    [CoversBackendOperation(nameof(IBackend.ActivationInPlace))]
    [Theory]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.GeluTanh)]
    [InlineData(Activation.GeluErf)]
    [InlineData(Activation.QuickGelu)]
    public void ActivationsMatchTheCpu(Activation activation)
    {
        // One rounding to bf16, plus the kernels' base-2 exp (relative 2⁻²²) in the negative tails
        using var pair = new BackendPair();
        const int n = 600;
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(n, 8, 7f));
        pair.Cpu.ActivationInPlace(xc, activation, n); pair.Gpu.ActivationInPlace(xg, activation, n);
        pair.AssertClose(xc, xg, relative: 1.0 / 256, absolute: 1e-6);
    }

    [CoversBackendOperation(nameof(IBackend.Modulate))]
    [CoversBackendOperation(nameof(IBackend.GatedAddInPlace))]
    [Fact]
    public void ModulateAndGatedAddMatchTheCpu()
    {
        using var pair = new BackendPair();
        const int batch = 2, tokens = 3, dim = 40, chunks = 6;
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(batch * tokens * dim, 9, 4f));
        var (rc, rg) = pair.Activation(BackendPair.RandomBf16(batch * tokens * dim, 10, 4f));
        var (mc, mg) = pair.Activation(BackendPair.RandomBf16(batch * chunks * dim, 11)); // [batch, 6·dim], as adaLN's linear writes
        var (yc, yg) = pair.Zeros(batch * tokens * dim);
        MatrixView Chunk(DeviceTensor m, int c) => MatrixView.Of(m, chunks * dim).At(0, c * dim);
        pair.Cpu.Modulate(xc, Chunk(mc, 0), Chunk(mc, 1), yc, batch, tokens, dim);
        pair.Gpu.Modulate(xg, Chunk(mg, 0), Chunk(mg, 1), yg, batch, tokens, dim);
        pair.AssertClose(yc, yg, relative: 1.0 / 256, absolute: 1e-5);
        pair.Cpu.Modulate(xc, Chunk(mc, 3), Chunk(mc, 4), xc, batch, tokens, dim); // in place
        pair.Gpu.Modulate(xg, Chunk(mg, 3), Chunk(mg, 4), xg, batch, tokens, dim);
        pair.AssertClose(xc, xg, relative: 1.0 / 256, absolute: 1e-5);

        (xc, xg) = pair.Activation(BackendPair.RandomBf16(batch * tokens * dim, 9, 4f));
        pair.Cpu.GatedAddInPlace(xc, Chunk(mc, 2), rc, batch, tokens, dim);
        pair.Gpu.GatedAddInPlace(xg, Chunk(mg, 2), rg, batch, tokens, dim);
        pair.AssertClose(xc, xg, relative: 1.0 / 256, absolute: 1e-5);
    }

    [CoversBackendOperation(nameof(IBackend.Attention))]
    [Theory]
    // The path each case takes is in docs/kernels.md §6: on the simulator head_dim ≤ 128 runs the ILGPU kernel, on the GPU the
    // tensor-core one (32, 64, 96, 128); above 128 the GEMM attention on both, in chunks of 1,500 scores on the simulator.
    [InlineData(2, 5, 37, 3, 16, true, 0f)]      // one key tile, the position bias
    [InlineData(2, 77, 150, 3, 64, false, 0f)]   // queries ≠ keys, neither a multiple of 64: partial query and key tiles
    [InlineData(2, 130, 130, 2, 64, true, 1f)]   // T5: its position bias, unscaled scores
    [InlineData(1, 70, 45, 2, 128, true, 0f)]    // the widest tensor-core head, with the bias; fewer keys than one tile
    [InlineData(2, 19, 70, 2, 32, false, 0f)]
    [InlineData(1, 66, 129, 1, 96, false, 0.3f)]
    [InlineData(1, 40, 120, 2, 160, false, 1f)]  // GEMM attention: 7 chunks of 6 queries, two heads written between each other
    [InlineData(1, 33, 40, 1, 512, true, 0f)]    // the VAE's single 512-wide head
    [InlineData(2, 70, 50, 1, 512, true, 0f)]    // the same in chunks of 30 queries, per image of the batch
    public void AttentionMatchesTheCpu(int batch, int queries, int keys, int heads, int headDim, bool withBias, float scale)
    {
        // As the causal attention's case: fp32 scores and softmax on both sides, an output rounded once
        using var pair = new BackendPair();
        var (qc, qg) = pair.Activation(BackendPair.RandomBf16(batch * queries * heads * headDim, 12, 1.5f));
        var (kc, kg) = pair.Activation(BackendPair.RandomBf16(batch * keys * heads * headDim, 13, 1.5f));
        var (vc, vg) = pair.Activation(BackendPair.RandomBf16(batch * keys * heads * headDim, 14));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(heads * queries * keys, 15, 3f), f32: true);
        var (oc, og) = pair.Zeros(batch * queries * heads * headDim);
        pair.Cpu.Attention(qc, kc, vc, withBias ? bc : null, oc, batch, queries, keys, heads, headDim, scale);
        pair.Gpu.Attention(qg, kg, vg, withBias ? bg : null, og, batch, queries, keys, heads, headDim, scale);
        pair.AssertClose(oc, og, relative: 2.0 / 128, absolute: 2e-3);
        if (headDim > 128) Assert.StartsWith("gemm", pair.Gpu.FullAttentionPath(batch, heads, headDim));
    }

    [CoversBackendOperation(nameof(IBackend.Attention))]
    [Theory]
    [InlineData(64)]
    [InlineData(512)]
    public void AttentionUnderAMaskingBiasMatchesTheCpu(int headDim)
    {
        // −∞ in the bias hides keys; a query whose every key is hidden outputs zeros on both sides
        const int batch = 2, queries = 21, keys = 67, heads = 2;
        using var pair = new BackendPair();
        var (qc, qg) = pair.Activation(BackendPair.RandomBf16(batch * queries * heads * headDim, 17, 1.5f));
        var (kc, kg) = pair.Activation(BackendPair.RandomBf16(batch * keys * heads * headDim, 18, 1.5f));
        var (vc, vg) = pair.Activation(BackendPair.RandomBf16(batch * keys * heads * headDim, 19));
        var bias = BackendPair.RandomBf16(heads * queries * keys, 20, 3f);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < queries; i++)
                for (int j = 0; j < keys; j++)
                    if (i == 5 || (j + i) % 3 == 0) bias[(h * queries + i) * keys + j] = float.NegativeInfinity;
        var (bc, bg) = pair.Activation(bias, f32: true);
        var (oc, og) = pair.Zeros(batch * queries * heads * headDim);
        pair.Cpu.Attention(qc, kc, vc, bc, oc, batch, queries, keys, heads, headDim);
        pair.Gpu.Attention(qg, kg, vg, bg, og, batch, queries, keys, heads, headDim);
        pair.AssertClose(oc, og, relative: 2.0 / 128, absolute: 2e-3);
        var output = pair.Read(og);
        for (int b = 0; b < batch; b++)
            Assert.All(output.AsSpan(((b * queries + 5) * heads) * headDim, heads * headDim).ToArray(), x => Assert.Equal(0f, x));
    }

    [CoversBackendOperation(nameof(IBackend.Permute))]
    [Theory]
    [InlineData(new[] { 2, 3, 2, 4, 2, 5 }, new[] { 0, 5, 1, 3, 2, 4 })] // SD3's unpatchify
    [InlineData(new[] { 3, 5 }, new[] { 1, 0 })]
    [InlineData(new[] { 2, 6, 4 }, new[] { 0, 2, 1 })]
    public void PermuteIsBitExactForEveryWidth(int[] shape, int[] order)
    {
        using var pair = new BackendPair();
        int count = shape.Aggregate(1, (a, n) => a * n);
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(count, 16));
        var (yc, yg) = pair.Zeros(count);
        pair.Cpu.Permute(xc, yc, shape, order); pair.Gpu.Permute(xg, yg, shape, order);
        Assert.Equal(pair.Read(yc), pair.Read(yg));
        var ints = Enumerable.Range(0, count).Select(i => i * 1_000_003).ToArray();
        var (ic, ig) = pair.Ints(ints); var (jc, jg) = pair.Ints(new int[count]);
        pair.Cpu.Permute(ic, jc, shape, order); pair.Gpu.Permute(ig, jg, shape, order);
        Assert.Equal(pair.ReadInts(jc), pair.ReadInts(jg));
        var bytes = Enumerable.Range(0, count).Select(i => (byte)(i * 7)).ToArray();
        var (uc, ug) = pair.Bytes(bytes, DType.U8); var (vc, vg) = pair.Bytes(new byte[count], DType.U8);
        pair.Cpu.Permute(uc, vc, shape, order); pair.Gpu.Permute(ug, vg, shape, order);
        Assert.Equal(ReadBytes(pair.Cpu, vc), ReadBytes(pair.Gpu, vg));
    }

    static byte[] ReadBytes(IBackend backend, DeviceTensor t)
    {
        var raw = new byte[t.ByteLength];
        backend.Download<byte>(t, raw);
        return raw;
    }

    [CoversBackendOperation(nameof(IBackend.Axpby))]
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AxpbyMatchesTheCpuInBothTypes(bool f32)
    {
        using var pair = new BackendPair();
        const int n = 333;
        var (xc, xg) = pair.Activation(BackendPair.RandomBf16(n, 17, 3f), f32);
        var (yc, yg) = pair.Activation(BackendPair.RandomBf16(n, 18, 3f), f32);
        pair.Cpu.Axpby(xc, yc, 1.25f, -0.375f, n - 3); pair.Gpu.Axpby(xg, yg, 1.25f, -0.375f, n - 3);
        pair.AssertClose(xc, xg, relative: f32 ? 1e-6 : 1.0 / 256, absolute: 1e-6);
    }

    [CoversBackendOperation(nameof(IBackend.CopyMatrix))]
    [Fact]
    public void CopyMatrixConcatenatesBf16AndIntegerTokenRows()
    {
        // two sequences of 3 and 4 token rows of width 5 into one of 7 per batch row (MMDiT's joint sequence), then split back
        using var pair = new BackendPair();
        const int batch = 2, width = 5;
        var (ac, ag) = pair.Activation(BackendPair.RandomBf16(batch * 3 * width, 19));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(batch * 4 * width, 20));
        var (jc, jg) = pair.Zeros(batch * 7 * width);
        foreach (var (backend, a, b, joint) in new[] { ((IBackend)pair.Cpu, ac, bc, jc), (pair.Gpu, ag, bg, jg) })
        {
            backend.CopyMatrix(MatrixView.Of(a, 3 * width), MatrixView.Of(joint, 7 * width), batch, 3 * width);
            backend.CopyMatrix(MatrixView.Of(b, 4 * width), MatrixView.Of(joint, 7 * width).At(0, 3 * width), batch, 4 * width);
        }
        Assert.Equal(pair.Read(jc), pair.Read(jg));
        Assert.Equal(pair.Read(ac).Take(3 * width), pair.Read(jg).Take(3 * width));

        var (ic, ig) = pair.Ints(Enumerable.Range(1, 40).ToArray());
        var (oc, og) = pair.Ints(new int[12]);
        pair.Cpu.CopyMatrix(new MatrixView(ic, 7, 9), MatrixView.Of(oc, 4), 3, 4);
        pair.Gpu.CopyMatrix(new MatrixView(ig, 7, 9), MatrixView.Of(og, 4), 3, 4);
        Assert.Equal(pair.ReadInts(oc), pair.ReadInts(og));
        Assert.Equal([8, 9, 10, 11], pair.ReadInts(og).Take(4));
    }

    [CoversBackendOperation(nameof(IBackend.CopyMatrix))]
    [Fact]
    public void CopyMatrixOfSixteenByteRowsMatchesTheCpu()
    {
        // rows, offsets and strides in whole 16-byte chunks: the GPU's vectorized copy (copy_rows_16b) where NVRTC runs
        using var pair = new BackendPair();
        const int batch = 3, width = 16;
        var (ac, ag) = pair.Activation(BackendPair.RandomBf16(batch * 3 * width, 21));
        var (bc, bg) = pair.Activation(BackendPair.RandomBf16(batch * 4 * width, 22));
        var (jc, jg) = pair.Activation(BackendPair.RandomBf16(batch * 7 * width, 23));
        foreach (var (backend, a, b, joint) in new[] { ((IBackend)pair.Cpu, ac, bc, jc), (pair.Gpu, ag, bg, jg) })
        {
            backend.CopyMatrix(MatrixView.Of(a, 3 * width), MatrixView.Of(joint, 7 * width), batch, 3 * width);
            backend.CopyMatrix(MatrixView.Of(b, 4 * width), MatrixView.Of(joint, 7 * width).At(0, 3 * width), batch - 1, 4 * width);
        }
        var joined = pair.Read(jg);
        Assert.Equal(pair.Read(jc), joined);
        Assert.Equal(pair.Read(bg).Skip(4 * width).Take(4 * width), joined.Skip(7 * width + 3 * width).Take(4 * width));
    }
}
