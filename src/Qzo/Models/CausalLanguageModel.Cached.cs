using Qzo.Compute;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>Generation's side of the model: passes that extend a KV cache, and the attention both kinds of pass share.</summary>
public abstract partial class CausalLanguageModel
{
    /// <summary>A KV cache for generation: <paramref name="rows"/> sequences of up to <paramref name="maxLength"/> tokens each.</summary>
    public KvCache CreateKvCache(int rows, int maxLength)
    {
        // Keys and values of every layer in the compute type, and an int mask per slot (on the host and the device).
        double slots = (double)rows * maxLength;
        double bytes = slots * (2.0 * Config.Layers * Shape.KeyValueWidth * Backend.ComputeType.SizeInBytes() + sizeof(int));
        ResourceBudget.RequireDeviceMemory("generate", $"a KV cache of {rows} × {maxLength} tokens", Backend, bytes);
        if (slots > Array.MaxLength)
            throw new QzoException(
                $"generate: a KV cache of {rows} × {maxLength} tokens has more slots than one mask array holds ({Array.MaxLength})");
        return new(Backend, Config.Layers, rows, maxLength, Shape.KeyValueWidth);
    }

    /// <summary>
    /// Generation: runs new tokens (ids and mask [cache.Batch, n], n = ids.Length / cache.Batch; the first pass may be
    /// left-padded) through the decoder, appending their keys and values to the cache, and writes the logits of each
    /// row's last new token to <paramref name="lastLogits"/> [cache.Batch, vocab]. Earlier tokens are read from the
    /// cache, never recomputed; only the last row of each sequence goes through lm_head.
    /// </summary>
    public void ForwardCached(KvCache cache, int[] ids, int[] mask, float[] lastLogits, Perturbation p = default)
    {
        if (Pipeline is not null) throw new QzoException(
            $"generation runs the whole model on one device; this model holds only {Part} (one rank of a pipeline)");
        if (cache.Layers != Config.Layers || cache.Width != Shape.KeyValueWidth) throw new ArgumentException(
            "the KV cache was made for another model", nameof(cache));
        if (ids.Length == 0 || ids.Length != mask.Length || ids.Length % cache.Batch != 0)
            throw new ArgumentException($"{ids.Length} ids and {mask.Length} mask values for {cache.Batch} rows", nameof(ids));
        if (lastLogits.Length < (long)cache.Batch * Config.VocabSize) throw new ArgumentException(
            "lastLogits holds fewer than batch × vocab values", nameof(lastLogits));
        int newTokens = ids.Length / cache.Batch;
        var positions = cache.Extend(mask, newTokens);
        var a = Buffers(ids.Length);
        var context = Context(p);
        Backend.Upload<int>(a.Ids, ids);
        Backend.Upload<int>(a.Mask, mask);
        var hidden = RunDecoder(new DecoderPass(cache.Batch, newTokens, positions, cache), a, context);
        var lastRows = Enumerable.Range(0, cache.Batch).Select(b => b * newTokens + newTokens - 1).ToArray();
        int vocab = Config.VocabSize;
        ProjectRows(a, hidden, context, lastRows, (start, count, logits) =>
            Backend.Download<float>(logits, lastLogits.AsSpan(start * vocab, count * vocab)));
    }

    /// <summary>
    /// One layer's attention (q, k, v in the buffers, output to a.Attention). When generating, the pass's keys and
    /// values first join the cache; with earlier tokens cached, the queries attend over the cache, else (a prefill)
    /// over their own pass, through the whole-sequence kernel.
    /// </summary>
    private protected void Attend(DecoderPass pass, ActivationBuffers a, int layer, int heads, int kvHeads, int headDim, int window,
                                  float scale = 0)
    {
        if (pass.Cache is { } cache)
        {
            int start = cache.Length - pass.Seq, width = kvHeads * headDim;
            Backend.AppendToCache(a.K, cache.Keys(layer), pass.Batch, pass.Seq, start, cache.MaxLength, width);
            Backend.AppendToCache(a.V, cache.Values(layer), pass.Batch, pass.Seq, start, cache.MaxLength, width);
            if (start > 0)
            {
                Backend.CachedAttention(a.Q, cache.Keys(layer), cache.Values(layer), cache.KeyMask, a.Attention,
                                        pass.Batch, pass.Seq, cache.Length, cache.MaxLength, heads, kvHeads, headDim, window, scale);
                return;
            }
        }
        Backend.CausalAttention(a.Q, a.K, a.V, a.Mask, a.Attention, pass.Batch, pass.Seq, heads, kvHeads, headDim, window, scale);
    }
}
