using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;
using Qzo.Compute.Cuda.Nvrtc;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>
/// Full (non-causal) attention, by head_dim (docs/kernels.md §6): 32, 64, 96 and 128 on the tensor-core kernels of
/// flash_attention.cu where NVRTC compiled them; above 128 (the VAE's 512) as two cuBLAS products around a row softmax,
/// chunked over queries so the score buffer stays bounded; everything else, and every shape under
/// QZO_ATTENTION=portable, on <see cref="FullAttentionKernel"/>.
/// </summary>
internal sealed partial class CudaBackend
{
    /// <summary>head_dim above this takes the GEMM attention: too wide for the tensor-core kernel's registers.</summary>
    const int GemmAttentionAbove = 128;

    FullFlashAttention? _fullFlash;
    bool _fullFlashTried;
    IlgpuTensor? _attentionScores, _attentionProbabilities;

    /// <summary>
    /// Scores per chunk of the GEMM attention: fp32 scores and bf16 probabilities, 6 bytes each, within 256 MiB on a GPU; a
    /// few rows on ILGPU's CPU accelerator so the tests cross chunks.
    /// </summary>
    long AttentionScoreBudget => IsCuda ? (256L << 20) / 6 : 1500;

    /// <summary>The tensor-core full attention, compiled on first use where the causal one compiled; null otherwise.</summary>
    FullFlashAttention? FullFlash
    {
        get
        {
            if (_fullFlashTried || _flash is null) return _fullFlash;
            _fullFlashTried = true;
            _fullFlash = FullFlashAttention.TryCreate(_deviceOrdinal, out string reason);
            if (_fullFlash is null) Console.Error.WriteLine($"warning: full attention stays on the ILGPU kernel ({reason})");
            return _fullFlash;
        }
    }

    /// <summary>Which implementation <see cref="Attention"/> takes for this shape: "nvrtc ...", "gemm" or "ilgpu".</summary>
    public string FullAttentionPath(int batch, int heads, int headDim)
    {
        if (FullFlash is { } flash && FullFlashAttention.Supports(headDim, batch, heads)) return $"nvrtc: {flash.Description}";
        return headDim > GemmAttentionAbove && !_portableAttention ? IsCuda ? "gemm: cuBLAS" : "gemm: simulated" : "ilgpu";
    }

    public void Attention(DeviceTensor q, DeviceTensor k, DeviceTensor v, DeviceTensor? bias, DeviceTensor output, int batch, int queries,
                          int keys, int heads, int headDim, float scale = 0) => Timed("full-attention", () =>
    {
        if (keys <= 0) throw new ArgumentException("attention needs at least one key");
        if (headDim <= 0) throw new QzoException($"head_dim {headDim} must be positive");
        long queryLength = (long)batch * queries * heads * headDim, keyLength = (long)batch * keys * heads * headDim;
        var qv = Bf16Sized(q, queryLength, nameof(q)); var ov = Bf16Sized(output, queryLength, nameof(output));
        var kv = Bf16Sized(k, keyLength, nameof(k)); var vv = Bf16Sized(v, keyLength, nameof(v));
        if (bias is not null && Require(bias, DType.F32).Length < (long)heads * queries * keys)
            throw new ArgumentException($"bias has {bias.Length} elements, fewer than the {(long)heads * queries * keys} its shape needs");
        if (queryLength == 0) return;
        float resolved = scale == 0 ? 1f / MathF.Sqrt(headDim) : scale;
        if (FullFlash is { } flash && FullFlashAttention.Supports(headDim, batch, heads))
        {
            flash.Launch(Ilgpu(q).Pointer, Ilgpu(k).Pointer, Ilgpu(v).Pointer, bias is null ? IntPtr.Zero : Ilgpu(bias).Pointer,
                         Ilgpu(output).Pointer, batch, queries, keys, heads, headDim, resolved, _stream);
            return;
        }
        var biasView = bias is null ? VF(Grown(ref _groupStatistics, DType.F32, 1)) : VF(bias); // a placeholder, never read
        if (headDim > GemmAttentionAbove && !_portableAttention)
        {
            GemmAttention(q, k, v, biasView, bias is not null, output, batch, queries, keys, heads, headDim, resolved);
            return;
        }
        if (headDim > FullAttentionKernel.MaxHeadDim) throw new QzoException(
            $"head_dim {headDim} is outside the ILGPU attention kernel's range 1..{FullAttentionKernel.MaxHeadDim}");
        // On ILGPU's CPU accelerator every barrier is a rendezvous of simulated threads: one warp per group there.
        int group = IsCuda ? 64 : 32, tiles = (queries + group - 1) / group;
        var shape = new FullAttentionKernel.Shape(batch, queries, keys, heads, headDim, resolved, bias is null ? 0 : 1,
                                                  FullAttentionKernel.KeyTile(headDim));
        Diffusion.Attention(new KernelConfig(Count((long)batch * heads * tiles), group), qv, kv, vv, biasView, ov, shape);
    });

    /// <summary>
    /// Per image and chunk of queries: scores[h, i, j] = scale·q·k (fp32, one strided batched product over the heads), the
    /// row softmax into bf16 probabilities, output rows = probabilities·v (fp32 sums, rounded once) written straight into
    /// [batch, queries, heads, headDim].
    /// </summary>
    void GemmAttention(DeviceTensor q, DeviceTensor k, DeviceTensor v, ArrayView<float> bias, bool hasBias, DeviceTensor output,
                       int batch, int queries, int keys, int heads, int headDim, float scale)
    {
        int chunk = (int)Math.Clamp(AttentionScoreBudget / ((long)heads * keys), 1, queries);
        var scores = Grown(ref _attentionScores, DType.F32, (long)heads * chunk * keys);
        var probabilities = Grown(ref _attentionProbabilities, DType.BF16, (long)heads * chunk * keys);
        int width = heads * headDim;
        for (int b = 0; b < batch; b++)
            for (int first = 0; first < queries; first += chunk)
            {
                int rows = Math.Min(chunk, queries - first);
                long queryOffset = ((long)b * queries + first) * width, keyOffset = (long)b * keys * width;
                Product(Ilgpu(q), queryOffset, Ilgpu(k), keyOffset, scores, 0, heads,
                        new StridedProduct(rows, keys, headDim, width, headDim, width, headDim, 1, keys, (long)rows * keys, scale));
                Diffusion.AttentionSoftmax(new KernelConfig(Count((long)heads * rows), ReductionGroup), scores.View<float>(), bias,
                    probabilities.View<ushort>(), new AttentionGemmKernels.SoftmaxRows(keys, rows, first, queries, hasBias ? 1 : 0));
                Product(probabilities, 0, Ilgpu(v), keyOffset, Ilgpu(output), queryOffset, heads,
                        new StridedProduct(rows, headDim, keys, keys, (long)rows * keys, width, headDim, 0, width, headDim, 1f));
            }
    }

    /// <summary>a and b bf16, c F32 or BF16; offsets in elements.</summary>
    void Product(IlgpuTensor a, long aOffset, IlgpuTensor b, long bOffset, IlgpuTensor c, long cOffset, int count, StridedProduct p)
    {
        bool f32 = c.DType == DType.F32;
        if (_cublas is not null)
        {
            _cublas.MultiplyStridedBatched(a.Pointer + (nint)(2 * aOffset), b.Pointer + (nint)(2 * bOffset),
                                           c.Pointer + (nint)(c.DType.SizeInBytes() * cOffset), f32, p, count);
            return;
        }
        var av = a.View<ushort>(); var bv = b.View<ushort>();
        av = av.SubView(aOffset, av.Length - aOffset); bv = bv.SubView(bOffset, bv.Length - bOffset);
        int elements = Count((long)count * p.M * p.N);
        if (f32)
        {
            var cv = c.View<float>();
            Diffusion.ProductToF32(elements, av, bv, cv.SubView(cOffset, cv.Length - cOffset), p);
        }
        else
        {
            var cv = c.View<ushort>();
            Diffusion.ProductToBf16(elements, av, bv, cv.SubView(cOffset, cv.Length - cOffset), p);
        }
    }
}
