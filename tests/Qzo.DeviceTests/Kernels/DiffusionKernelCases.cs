using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;

namespace Qzo.DeviceTests.Kernels;

/// <summary>The sizes of the image-model cases: Stable Diffusion 3.5 Large, or a few values of each for the simulator.</summary>
sealed record DiffusionShape(string Name, int Batch, int ImageTokens, int TextTokens, int Heads, int HeadDim, int VaeChannels,
                             int VaeSide, int LatentChannels, int AttentionImageTokens, int MediumHeads, int T5Heads)
{
    /// <summary>
    /// SD3.5 Large at 1024²: a 128² latent of 16 channels, 2×2 patches (4,096 image tokens), 333 text tokens (77 CLIP + 256 T5),
    /// 38 heads of 64 (width 2,432), classifier-free guidance's batch of 2; the VAE decoder's 512-channel blocks at 128².
    /// Attention runs whole at a 512² image (1,024 image tokens; the VAE's 64² = 4,096 pixels), and at 1024² (4,429 joint
    /// tokens, 16,384 VAE pixels) against a CPU reference of a sample of query rows (<see cref="AttentionSample"/>): the whole
    /// one would take minutes. SD3.5 Medium has 24 heads of 64; T5-XXL 64 heads of 64.
    /// </summary>
    public static readonly DiffusionShape Sd35Large = new("SD3.5 Large, 1024²", 2, 4096, 333, 38, 64, 512, 128, 16, 1024, 24, 64);

    public static readonly DiffusionShape Tiny = new("tiny (simulator)", 2, 16, 5, 2, 16, 32, 8, 4, 16, 1, 2);

    public int Width => Heads * HeadDim;
}

/// <summary>
/// One case or more per image-model operation of <see cref="IBackend"/> (IBackend.Diffusion), and CopyMatrix on the compute
/// type as the joint attention's concatenation uses it. Tolerances follow GpuDiffusionKernelTests; the comments say why.
/// </summary>
static class DiffusionKernelCases
{
    // One rounding of an fp32 result to bf16 (half an ulp: 1/256 relative), plus 1e-6 absolute where the fp32 results of
    // two orders of operations (an FMA on the GPU, a product and a sum on the CPU) differ by an fp32 ulp near a cancellation.
    static readonly Tolerance Bf16Once = new(1.0 / 256, 1e-6);
    static readonly Tolerance Bf16WithExp = new(1.0 / 256, 1e-6);  // plus the kernels' base-2 exp (2⁻²² relative)
    // As LayerNorm: fp32 statistics in another order move x̂ by ~1e-6 relative to the group's spread; one bf16 rounding.
    static readonly Tolerance GroupNorm = new(1.0 / 256, 1e-5);
    // fp32 sums of cIn·9 = 1,152 products (inputs ±1, weights ±0.05: outputs ~0.5) in cuBLAS's order against SGEMM's:
    // ~1,152·2⁻²⁴·0.05 ≈ 4e-6 apart before the one bf16 rounding; 1e-4 absolute covers outputs that cancel to near 0.
    static readonly Tolerance Convolution = new(1.0 / 256, 1e-4);
    // As CausalAttention's: fp32 scores and an online softmax (the GPU) against a two-pass one; bf16 output.
    static readonly Tolerance Attention = new(2.0 / 128, 2e-3);

    public static IEnumerable<KernelCase> For(DiffusionShape d)
    {
        int vae = d.VaeChannels, side = d.VaeSide, plane = side * side, decoderSide = 2 * side, decoderChannels = vae / 4;
        int tokens = d.Batch * d.ImageTokens, width = d.Width, joint = d.AttentionImageTokens + d.TextTokens;
        int pixels = 4 * d.AttentionImageTokens; // the VAE's attention at that image size: a latent of 2× the patches' side

        yield return new("Conv2d", $"1×{decoderChannels}×{decoderSide}² 3×3 → {decoderChannels}", Convolution, NvrtcVariant.None, c =>
        {
            var x = c.Activation(decoderChannels * decoderSide * decoderSide, 60);
            var w = c.Activation(decoderChannels * decoderChannels * 9, 61, 0.05f); var b = c.Activation(decoderChannels, 62);
            var y = c.Zeros(decoderChannels * decoderSide * decoderSide);
            return new(() => c.Backend.Conv2d(x, w, b, y, 1, decoderChannels, decoderSide, decoderSide, decoderChannels, 3, 1,
                                              Padding2d.Same(1)), () => c.Read(y));
        }, "im2col+cublas");
        yield return new("Conv2d", $"1×{vae}×{side}² 1×1 → {vae / 2}", Convolution, NvrtcVariant.None, c =>
        {
            var x = c.Activation(vae * plane, 63); var w = c.Activation(vae / 2 * vae, 64, 0.05f);
            var y = c.Zeros(vae / 2 * plane);
            return new(() => c.Backend.Conv2d(x, w, null, y, 1, vae, side, side, vae / 2, 1, 1, default), () => c.Read(y));
        }, "cublas");
        yield return new("Conv2d", $"1×{decoderChannels}×{decoderSide}² 3×3 /2, pad (0,1,0,1)", Convolution, NvrtcVariant.None, c =>
        {
            var x = c.Activation(decoderChannels * decoderSide * decoderSide, 65);
            var w = c.Activation(decoderChannels * decoderChannels * 9, 66, 0.05f); var b = c.Activation(decoderChannels, 67);
            var y = c.Zeros(decoderChannels * plane);
            return new(() => c.Backend.Conv2d(x, w, b, y, 1, decoderChannels, decoderSide, decoderSide, decoderChannels, 3, 2,
                                              new Padding2d(0, 1, 0, 1)), () => c.Read(y));
        }, "im2col+cublas");
        yield return new("GroupNorm", $"1×{vae}×{side}², 32 groups", GroupNorm, NvrtcVariant.None, c =>
        {
            var x = c.Activation(vae * plane, 68, 3f); var w = c.Activation(vae, 69, 2f); var b = c.Activation(vae, 70);
            var y = c.Zeros(vae * plane);
            return new(() => c.Backend.GroupNorm(x, w, b, y, 1, vae, plane, 32, 1e-6f), () => c.Read(y));
        });
        yield return new("UpsampleNearest2x", $"{vae}×{side}² → {decoderSide}²", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var x = c.Activation(vae * plane, 71); var y = c.Zeros(4 * vae * plane);
            return new(() => c.Backend.UpsampleNearest2x(x, y, vae, side, side), () => c.Read(y));
        });
        // In place: the check reads the first application; the timed runs apply it again, which costs the same.
        yield return new("ActivationInPlace", $"silu, 1×{vae}×{side}²", Bf16WithExp, NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(vae * plane, 72, 6f);
            return new(() => c.Backend.ActivationInPlace(x, Activation.Silu, (long)vae * plane), () => c.Read(x));
        });
        yield return new("ActivationInPlace", $"gelu tanh, {tokens}×{4 * width}", Bf16WithExp, NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(tokens * 4 * width, 73, 6f);
            return new(() => c.Backend.ActivationInPlace(x, Activation.GeluTanh, (long)tokens * 4 * width), () => c.Read(x));
        });
        yield return new("ActivationInPlace", $"gelu erf, {d.Batch * d.TextTokens}×{4 * width}", Bf16WithExp, NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(d.Batch * d.TextTokens * 4 * width, 74, 6f);
            return new(() => c.Backend.ActivationInPlace(x, Activation.GeluErf, (long)d.Batch * d.TextTokens * 4 * width),
                       () => c.Read(x));
        });
        // The q/k norms over heads (rows of head_dim values), the blocks' LayerNorm without affine, a linear's bias after the
        // feed-forward's up projection: at the joint block's shapes.
        yield return new("RmsNorm", $"{tokens}×{d.Heads} heads × {d.HeadDim}", new(2.0 / 128, 1e-3), NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(tokens * width, 96, 3f); var w = c.Activation(d.HeadDim, 97); var y = c.Zeros(tokens * width);
            return new(() => c.Backend.RmsNorm(x, w, y, tokens * d.Heads, d.HeadDim, 1e-6f), () => c.Read(y));
        });
        yield return new("LayerNorm", $"{tokens}×{width}, no affine", new(1.0 / 256, 1e-5), NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(tokens * width, 98, 3f); var y = c.Zeros(tokens * width);
            return new(() => c.Backend.LayerNorm(x, null, null, y, tokens, width, 1e-6f), () => c.Read(y));
        });
        yield return new("AddBiasInPlace", $"{tokens}×{4 * width}", Bf16Once, NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(tokens * 4 * width, 99, 4f); var b = c.Activation(4 * width, 100);
            return new(() => c.Backend.AddBiasInPlace(x, b, tokens, 4 * width), () => c.Read(x),
                       () => c.Write(x, CaseInputs.Values(tokens * 4 * width, 99, 4f)));
        });
        yield return new("MatMulTransposedBAddBias", $"ff up {tokens}×{width} · {4 * width}×{width}ᵀ + bias", new(1.0 / 128, 1e-3),
            NvrtcVariant.BiasEpilogue, c =>
        {
            var x = c.Activation(tokens * width, 101); var w = c.Activation(4 * width * width, 102, 0.05f);
            var b = c.Activation(4 * width, 103, 0.05f); var y = c.Zeros(tokens * 4 * width); // small: no cancellation
            return new(() => c.Backend.MatMulTransposedBAddBias(x, w, b, y, tokens, 4 * width, width), () => c.Read(y));
        }, "cublasLt");
        yield return new("Modulate", $"{d.Batch}×{d.ImageTokens}×{width}", Bf16Once, NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(tokens * width, 75, 4f); var m = c.Activation(d.Batch * 6 * width, 76); var y = c.Zeros(tokens * width);
            var rows = MatrixView.Of(m, 6 * width);
            return new(() => c.Backend.Modulate(x, rows.At(0, 0), rows.At(0, width), y, d.Batch, d.ImageTokens, width), () => c.Read(y));
        });
        yield return new("GatedAddInPlace", $"{d.Batch}×{d.ImageTokens}×{width}", Bf16Once, NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(tokens * width, 77, 4f); var m = c.Activation(d.Batch * 6 * width, 76);
            var y = c.Activation(tokens * width, 78, 4f);
            var rows = MatrixView.Of(m, 6 * width);
            var original = CaseInputs.Values(tokens * width, 77, 4f);
            return new(() => c.Backend.GatedAddInPlace(x, rows.At(0, 2 * width), y, d.Batch, d.ImageTokens, width), () => c.Read(x),
                       () => c.Write(x, original));
        });

        yield return new("Attention", $"{d.Batch}×{joint}, {d.Heads} heads × {d.HeadDim}", Attention, NvrtcVariant.Attention, c =>
        {
            var q = c.Activation(d.Batch * joint * width, 79, 2f); var k = c.Activation(d.Batch * joint * width, 80, 2f);
            var v = c.Activation(d.Batch * joint * width, 81); var y = c.Zeros(d.Batch * joint * width);
            return new(() => c.Backend.Attention(q, k, v, null, y, d.Batch, joint, joint, d.Heads, d.HeadDim), () => c.Read(y));
        });
        yield return new("Attention", $"VAE 1×{pixels}, 1 head × {vae}", Attention, NvrtcVariant.AttentionGemm, c =>
        {
            // normalized pixels: q·k over 512 values of ±0.25 spreads the scaled scores to a few units, as trained ones
            var q = c.Activation(pixels * vae, 82, 0.25f); var k = c.Activation(pixels * vae, 83, 0.25f);
            var v = c.Activation(pixels * vae, 84); var y = c.Zeros(pixels * vae);
            return new(() => c.Backend.Attention(q, k, v, null, y, 1, pixels, pixels, 1, vae), () => c.Read(y));
        }, "cublas");
        int t5 = Math.Min(256, d.TextTokens), t5Heads = d.T5Heads;
        yield return new("Attention", $"T5 {d.Batch}×{t5}, {t5Heads} heads × 64, bias, unscaled", Attention, NvrtcVariant.Attention, c =>
        {
            var q = c.Activation(d.Batch * t5 * t5Heads * 64, 85, 0.5f); var k = c.Activation(d.Batch * t5 * t5Heads * 64, 86, 0.5f);
            var v = c.Activation(d.Batch * t5 * t5Heads * 64, 87); var bias = c.F32(t5Heads * t5 * t5, 88, 4f);
            var y = c.Zeros(d.Batch * t5 * t5Heads * 64);
            return new(() => c.Backend.Attention(q, k, v, bias, y, d.Batch, t5, t5, t5Heads, 64, 1f), () => c.Read(y));
        });
        int fullJoint = d.ImageTokens + d.TextTokens, fullPixels = d.VaeSide * d.VaeSide;
        yield return SampledAttention($"Large {d.Batch}×{fullJoint}, {d.Heads}×{d.HeadDim}", d.Batch, fullJoint, d.Heads,
                                      d.HeadDim, NvrtcVariant.Attention, "ilgpu", 110);
        yield return SampledAttention($"Medium {d.Batch}×{fullJoint}, {d.MediumHeads}×{d.HeadDim}", d.Batch, fullJoint,
                                      d.MediumHeads, d.HeadDim, NvrtcVariant.Attention, "ilgpu", 113);
        // SD3.5 Medium's second attention in its first 13 blocks (MMDiT-X): the image tokens alone
        yield return SampledAttention($"Medium image {d.Batch}×{d.ImageTokens}, {d.MediumHeads}×{d.HeadDim}", d.Batch,
                                      d.ImageTokens, d.MediumHeads, d.HeadDim, NvrtcVariant.Attention, "ilgpu", 116);
        // The ILGPU kernel would take about 12 s a run here (16× the 4,096-pixel case): no portable variant.
        yield return SampledAttention($"VAE 1×{fullPixels}, 1×{vae}", 1, fullPixels, 1, vae, NvrtcVariant.None, "cublas", 119);

        int patches = d.VaeSide / 2; // the latent's side in 2×2 patches (the latent is as large as the VAE's deepest blocks)
        yield return new("Permute", $"unpatchify {d.Batch}×{patches}²×2×2×{d.LatentChannels}", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            int count = d.Batch * patches * patches * 4 * d.LatentChannels;
            var x = c.Activation(count, 89); var y = c.Zeros(count);
            return new(() => c.Backend.Permute(x, y, [d.Batch, patches, patches, 2, 2, d.LatentChannels], [0, 5, 1, 3, 2, 4]),
                       () => c.Read(y));
        });
        yield return new("Permute", $"NCHW → tokens 1×{vae}×{plane}", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var x = c.Activation(vae * plane, 90); var y = c.Zeros(vae * plane);
            return new(() => c.Backend.Permute(x, y, [1, vae, plane], [0, 2, 1]), () => c.Read(y));
        });
        int latent = d.Batch * d.LatentChannels * side * side;
        yield return new("Axpby", $"latents {d.Batch}×{d.LatentChannels}×{side}² f32", new(1e-6, 1e-6), NvrtcVariant.None, c =>
        {
            var x = c.F32(latent, 91); var v = c.F32(latent, 92);
            return new(() => c.Backend.Axpby(x, v, 1f, -0.0125f, latent), () => c.Read(x), () => c.Write(x, CaseInputs.Values(latent, 91)));
        });
        yield return new("Axpby", $"guidance {tokens}×{width}", Bf16Once, NvrtcVariant.None, c =>
        {
            var x = c.Activation(tokens * width, 93); var v = c.Activation(tokens * width, 94);
            return new(() => c.Backend.Axpby(x, v, -3.5f, 4.5f, (long)tokens * width), () => c.Read(x),
                       () => c.Write(x, CaseInputs.Values(tokens * width, 93)));
        });
        int allTokens = d.ImageTokens + d.TextTokens;
        yield return new("CopyMatrix", $"{d.Batch}×{d.ImageTokens}×{width} into {allTokens} tokens", Tolerance.Exact,
            NvrtcVariant.Streaming,
            c =>
        {
            var x = c.Activation(tokens * width, 95); var y = c.Zeros(d.Batch * allTokens * width);
            return new(() => c.Backend.CopyMatrix(MatrixView.Of(x, d.ImageTokens * width), MatrixView.Of(y, allTokens * width), d.Batch,
                                                  d.ImageTokens * width), () => c.Read(y));
        });
    }

    /// <summary>
    /// Attention over <paramref name="tokens"/> keys and queries, the CPU computing only <see cref="AttentionSample"/>'s query
    /// rows and the GPU variants all of them (timed whole, checked on those rows). Scaled scores with a standard deviation of 2,
    /// as in trained attention: q·k sums headDim products of variance (2.45²/3)², then 1/√headDim.
    /// </summary>
    static KernelCase SampledAttention(string shape, int batch, int tokens, int heads, int headDim, NvrtcVariant nvrtc, string gpuKernel,
                                       int seed)
    {
        var sample = new AttentionSample(tokens, tokens, heads, headDim);
        int count = batch * tokens * heads * headDim;
        return new("Attention", $"{shape}, ref {sample.Rows.Length} rows", Attention, nvrtc, c =>
        {
            bool reference = c.Backend is CpuBackend;
            var all = CaseInputs.Values(count, seed, 2.45f);
            var q = c.Activation(reference ? sample.OfQueries(all) : all);
            var k = c.Activation(count, seed + 1, 2.45f); var v = c.Activation(count, seed + 2);
            int queries = reference ? sample.Rows.Length : tokens;
            var y = c.Zeros(batch * queries * heads * headDim);
            return new(() => c.Backend.Attention(q, k, v, null, y, batch, queries, tokens, heads, headDim),
                       () => reference ? c.Read(y) : sample.OfQueries(c.Read(y)));
        }, gpuKernel);
    }
}
