using Qzo.Numerics;

namespace Qzo.Compute;

/// <summary>
/// Everything a forward pass and a zeroth-order update need from a device. Buffers are flat; shapes are
/// arguments. Activations and frozen weights use <see cref="ComputeType"/> (F32 on the CPU, BF16 on a GPU);
/// trainable masters, logits and losses are F32; integer inputs (token ids, targets, masks, GPTQ words) are I32.
/// Quantization formats bring their own kernels per backend (Compute/BackendKernels, Quantization/&lt;format&gt;/Kernels).
/// Backends know nothing of models or training.
/// </summary>
public partial interface IBackend : IDisposable
{
    string Name { get; }
    DType ComputeType { get; }
    MemoryTracker Memory { get; }

    DeviceTensor Allocate(DType dtype, long length, MemoryCategory category);
    void Upload<T>(DeviceTensor destination, ReadOnlySpan<T> source, long offset = 0) where T : unmanaged;
    void Download<T>(DeviceTensor source, Span<T> destination, long offset = 0) where T : unmanaged;
    void Copy(DeviceTensor source, DeviceTensor destination, long count);

    /// <summary>c[m,n] (+)= a[m,k] · b[n,k]ᵀ: a linear layer x·Wᵀ. a, b: ComputeType; c: ComputeType or F32.</summary>
    void MatMulTransposedB(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool accumulate = false);

    /// <summary>
    /// c[m,n] = a[m,k] · b[n,k]ᵀ + bias[n] (the bias added to every row): a linear layer with its bias. a, b, bias, c:
    /// ComputeType. The GPU adds the bias to the fp32 sums before the one rounding where cuBLASLt's epilogue can.
    /// </summary>
    void MatMulTransposedBAddBias(DeviceTensor a, DeviceTensor b, DeviceTensor bias, DeviceTensor c, int m, int n, int k);

    /// <summary>c[m,n] (+)= a[m,k] · b[k,n]. a, b: ComputeType; c: ComputeType or F32.</summary>
    void MatMul(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool accumulate = false);

    /// <summary>output[r, :] = table[ids[r], :] for r &lt; rows.</summary>
    void EmbeddingGather(DeviceTensor table, DeviceTensor ids, DeviceTensor output, int rows, int dim);

    /// <summary>y = x / sqrt(mean(x²) + eps) · weight, per row (Llama's RMSNorm).</summary>
    void RmsNorm(DeviceTensor x, DeviceTensor weight, DeviceTensor y, int rows, int dim, float eps);

    /// <summary>
    /// In place, halves convention: x is [rows, heads, headDim]; row r rotates pair i by the angle whose
    /// cos and sin are cos[positions[r], i] and sin[positions[r], i] (F32 tables [positions, headDim/2]).
    /// </summary>
    void ApplyRope(DeviceTensor x, DeviceTensor positions, DeviceTensor cos, DeviceTensor sin, int rows, int heads, int headDim);

    /// <summary>
    /// Causal multi-head attention with grouped KV heads, scores scaled by <paramref name="scale"/> (0: 1/sqrt(headDim)).
    /// q, output: [batch, seq, heads, headDim]; k, v: [batch, seq, kvHeads, headDim]; keyMask: [batch, seq]
    /// (1 = real token, 0 = padding). Query i sees key j iff j ≤ i, keyMask[j] = 1 and, when
    /// <paramref name="slidingWindow"/> &gt; 0, i − j &lt; slidingWindow (Mistral's window; i and j count padding
    /// too, as transformers does). slidingWindow 0 = no window. A query that sees no key outputs zeros.
    /// </summary>
    void CausalAttention(DeviceTensor q, DeviceTensor k, DeviceTensor v, DeviceTensor keyMask, DeviceTensor output,
                         int batch, int seq, int heads, int kvHeads, int headDim, int slidingWindow, float scale = 0);

    /// <summary>
    /// Attention of a pass's new queries over a KV cache (generation). q, output: [batch, newTokens, heads, headDim];
    /// keys, values: [batch, maxLength, kvHeads, headDim] whose first <paramref name="cacheLength"/> slots are filled,
    /// the new tokens' own keys last; keyMask: [batch, maxLength]. Query t sits at slot i = cacheLength − newTokens + t
    /// and sees slot j iff j ≤ i, keyMask[b, j] = 1 and, with a window, i − j &lt; slidingWindow (slots count
    /// padding, as in <see cref="CausalAttention"/>). Scores scaled as there; a query that sees no key outputs zeros.
    /// </summary>
    void CachedAttention(DeviceTensor q, DeviceTensor keys, DeviceTensor values, DeviceTensor keyMask, DeviceTensor output,
                         int batch, int newTokens, int cacheLength, int maxLength, int heads, int kvHeads, int headDim, int slidingWindow,
                         float scale = 0);

    /// <summary>
    /// cache[b, start + t, :] = rows[b, t, :] for b &lt; batch, t &lt; count: a pass's keys or values into a KV cache [batch, maxLength,
    /// width].
    /// </summary>
    void AppendToCache(DeviceTensor rows, DeviceTensor cache, int batch, int count, int start, int maxLength, int width);

    /// <summary>
    /// y = (x − mean) / sqrt(var + eps) · weight + bias per row, with the biased variance (torch's LayerNorm,
    /// OPT). weight and bias may be null (layer_norm_elementwise_affine false): then 1 and 0. x and y may be one buffer.
    /// </summary>
    void LayerNorm(DeviceTensor x, DeviceTensor? weight, DeviceTensor? bias, DeviceTensor y, int rows, int dim, float eps);

    /// <summary>gate[i] = silu(gate[i]) · up[i].</summary>
    void SiluMulInPlace(DeviceTensor gate, DeviceTensor up, long count);

    /// <summary>x[i] = max(x[i], 0) (OPT's MLP activation).</summary>
    void ReluInPlace(DeviceTensor x, long count);

    /// <summary>x[i] += y[i].</summary>
    void AddInPlace(DeviceTensor x, DeviceTensor y, long count);

    /// <summary>x[r, j] += bias[j].</summary>
    void AddBiasInPlace(DeviceTensor x, DeviceTensor bias, int rows, int dim);

    /// <summary>nll[r] = −log softmax(logits[r, :])[targets[r]], or 0 where targets[r] &lt; 0 (ignored).</summary>
    void CrossEntropyRows(DeviceTensor logits, DeviceTensor targets, DeviceTensor nll, int rows, int vocab);

    /// <summary>
    /// output[i] = master[i] + p.Scale · z(p.Seed, tensorIndex, i) for i &lt; count; master F32, output F32 or ComputeType.
    /// </summary>
    void PerturbedCopy(DeviceTensor master, Perturbation p, int tensorIndex, DeviceTensor output, long count);

    /// <summary>master[i] = max(master[i] − step · z(seed, tensorIndex, i), floor) (no floor when null).</summary>
    void ZerothOrderUpdate(DeviceTensor master, ulong seed, int tensorIndex, float step, float? floor, long count);

    /// <summary>
    /// Fills t[0..count) from the Philox stream (seed, stream): Gaussian with mean a and std b (F32 or ComputeType),
    /// uniform in [a, b) (F32), or raw 32-bit words (I32). For synthesizing models on the device.
    /// </summary>
    void FillRandom(DeviceTensor t, RandomFill kind, ulong seed, int stream, float a, float b, long count);

    /// <summary>Waits until every queued operation has finished (for timing; downloads already wait).</summary>
    void Synchronize();
}

public enum RandomFill { Gaussian, Uniform, Bits }
