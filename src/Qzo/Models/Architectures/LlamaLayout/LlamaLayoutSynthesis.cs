using System.Text.Json.Nodes;
using static Qzo.Models.SynthValues;

namespace Qzo.Models.Architectures.LlamaLayout;

/// <summary>
/// What `qzo synth` writes for every Llama-layout family: the shared config.json keys and tensors. The layer norms start at 1;
/// q/k norms and biases are random, so a test that ignored one would notice.
/// </summary>
static class LlamaLayoutSynthesis
{
    public static void Validate(SynthOptions o, bool slidingWindow)
    {
        if (o.Hidden % o.Heads != 0 && o.HeadDim is null)
            throw new QzoException($"--hidden ({o.Hidden}) must be a multiple of --heads ({o.Heads}), or give --head-dim");
        if (o.ResolvedHeadDim % 2 != 0)
            throw new QzoException(
                "--head-dim must be even for rotary position embeddings, got " +
                $"{o.ResolvedHeadDim}{(o.HeadDim is null ? " (--hidden / --heads)" : "")}");
        if (o.SlidingWindow is int w && (w <= 0 || !slidingWindow))
            throw new QzoException($"--sliding-window must be positive and applies to mistral only");
        if (o.WordEmbedDim is not null || o.PostLayerNorm)
            throw new QzoException("--word-embed-dim and --post-layer-norm apply to opt only");
    }

    public static JsonObject Config(SynthOptions o, IArchitecture architecture) => new()
    {
        ["architectures"] = new JsonArray(architecture.ClassName),
        ["attention_dropout"] = 0.0,
        ["bos_token_id"] = 1,
        ["dtype"] = DTypeName(o),
        ["eos_token_id"] = 2,
        ["head_dim"] = o.ResolvedHeadDim,
        ["hidden_act"] = "silu",
        ["hidden_size"] = o.Hidden,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = o.ResolvedIntermediate,
        ["max_position_embeddings"] = o.MaxPositions,
        ["model_type"] = architecture.ModelType,
        ["num_attention_heads"] = o.Heads,
        ["num_hidden_layers"] = o.Layers,
        ["num_key_value_heads"] = o.ResolvedKvHeads,
        ["pad_token_id"] = 0,
        ["rms_norm_eps"] = o.RmsNormEps,
        ["rope_parameters"] = new JsonObject { ["rope_theta"] = o.RopeTheta, ["rope_type"] = "default" },
        ["tie_word_embeddings"] = o.TieEmbeddings,
        ["transformers_version"] = "5.17.0",
        ["use_cache"] = true,
        ["vocab_size"] = o.Vocab,
    };

    public static IEnumerable<SynthTensor> Tensors(SynthOptions o, bool qkvBias, bool qkNorm)
    {
        int h = o.Hidden, headDim = o.ResolvedHeadDim, q = o.Heads * o.ResolvedHeadDim, kv = o.ResolvedKvHeads * o.ResolvedHeadDim,
            m = o.ResolvedIntermediate;
        yield return new("model.embed_tokens.weight", [o.Vocab, h], t => Embedding(o, t, o.Vocab, h));
        for (int i = 0; i < o.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            yield return new(p + "input_layernorm.weight", [h], t => Ones(h));
            yield return new(p + "post_attention_layernorm.weight", [h], t => Ones(h));
            foreach (var (name, outF, inF) in new[] { ("self_attn.q_proj", q, h), ("self_attn.k_proj", kv, h), ("self_attn.v_proj", kv, h),
                                                      ("self_attn.o_proj", h, q), ("mlp.gate_proj", m, h), ("mlp.up_proj", m, h),
                                                      ("mlp.down_proj", h, m) })
            {
                yield return Weight(o, p + name, outF, inF);
                if (qkvBias && name is "self_attn.q_proj" or "self_attn.k_proj" or "self_attn.v_proj")
                    yield return new(p + name + ".bias", [outF], t => Gaussian(o, t, outF, 0.5f));
            }
            if (qkNorm)
                foreach (var name in new[] { "self_attn.q_norm.weight", "self_attn.k_norm.weight" })
                    yield return new(p + name, [headDim], t => Gaussian(o, t, headDim, 0.1f).Select(v => 1 + v).ToArray());
        }
        yield return new("model.norm.weight", [h], t => Ones(h));
        if (!o.TieEmbeddings) yield return LmHead(o, h);
    }

    /// <summary>The tensors' sizes; per-layer tensors are named for layer 0.</summary>
    public static IEnumerable<SynthTensorGroup> Footprint(SynthOptions o, bool qkvBias, bool qkNorm)
    {
        double h = o.Hidden, layers = o.Layers, vocab = o.Vocab, headDim = o.HeadDim ?? (double)(o.Hidden / o.Heads);
        double q = o.Heads * headDim, kv = o.ResolvedKvHeads * headDim, m = SynthFootprint.Intermediate(o);
        const string p = "model.layers.0.";
        var list = new List<SynthTensorGroup>
        {
            new("model.embed_tokens.weight", vocab, h, 1), new(p + "input_layernorm.weight", h, 1, 2 * layers),
            new(p + "self_attn.q_proj.weight", q, h, layers), new(p + "self_attn.k_proj.weight", kv, h, 2 * layers),
            new(p + "self_attn.o_proj.weight", h, q, layers), new(p + "mlp.gate_proj.weight", m, h, 3 * layers),
                new("model.norm.weight", h, 1, 1),
        };
        if (qkvBias) list.AddRange([new(p + "self_attn.q_proj.bias", q, 1, layers), new(p + "self_attn.k_proj.bias", kv, 1, 2 * layers)]);
        if (qkNorm) list.Add(new(p + "self_attn.q_norm.weight", headDim, 1, 2 * layers));
        if (!o.TieEmbeddings) list.Add(new("lm_head.weight", vocab, h, 1));
        return list;
    }
}
