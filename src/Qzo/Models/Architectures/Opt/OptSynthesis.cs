using System.Text.Json.Nodes;
using static Qzo.Models.SynthValues;

namespace Qzo.Models.Architectures.Opt;

/// <summary>What `qzo synth` writes for OPT: every bias and LayerNorm random, so a test that ignored one would notice.</summary>
sealed class OptSynthesis : IArchitectureSynthesis
{
    public int KvHeads(SynthOptions o) => o.Heads;
    public int HeadDim(SynthOptions o) => o.Hidden / o.Heads;

    /// <summary>OPT's rule: 4·hidden.</summary>
    public double DefaultIntermediate(double hidden) => 4.0 * hidden;

    public void Validate(SynthOptions o)
    {
        if (o.Hidden % o.Heads != 0) throw new QzoException($"--hidden ({o.Hidden}) must be a multiple of --heads ({o.Heads})");
        if (o.SlidingWindow is not null) throw new QzoException($"--sliding-window must be positive and applies to mistral only");
        if (o.KvHeads is not null || o.HeadDim is not null)
            throw new QzoException(
                "--kv-heads and --head-dim do not apply to opt (every head has its own keys; head_dim = hidden / heads)");
    }

    public JsonObject Config(SynthOptions o) => Sorted(new JsonObject
    {
        ["_remove_final_layer_norm"] = false,
        ["activation_function"] = "relu",
        ["architectures"] = new JsonArray("OPTForCausalLM"),
        ["attention_dropout"] = 0.0,
        ["bos_token_id"] = 1,
        ["do_layer_norm_before"] = !o.PostLayerNorm,
        ["dropout"] = 0.1,
        ["dtype"] = DTypeName(o),
        ["enable_bias"] = true,
        ["eos_token_id"] = 2,
        ["ffn_dim"] = o.ResolvedIntermediate,
        ["hidden_size"] = o.Hidden,
        ["layer_norm_elementwise_affine"] = true,
        ["max_position_embeddings"] = o.MaxPositions,
        ["model_type"] = "opt",
        ["num_attention_heads"] = o.Heads,
        ["num_hidden_layers"] = o.Layers,
        ["pad_token_id"] = 0,
        ["tie_word_embeddings"] = o.TieEmbeddings,
        ["transformers_version"] = "5.17.0",
        ["use_cache"] = true,
        ["vocab_size"] = o.Vocab,
        ["word_embed_proj_dim"] = o.ResolvedWordEmbedDim,
    });

    public IEnumerable<SynthTensor> Tensors(SynthOptions o)
    {
        int h = o.Hidden, f = o.ResolvedIntermediate, words = o.ResolvedWordEmbedDim;
        const string d = "model.decoder.";
        IEnumerable<SynthTensor> Norm(string prefix) =>
        [
            new(prefix + ".weight", [h], t => Gaussian(o, t, h, 0.1f).Select(v => 1 + v).ToArray()),
            new(prefix + ".bias", [h], t => Gaussian(o, t, h, 0.1f)),
        ];
        IEnumerable<SynthTensor> Linear(string prefix, int outF, int inF) =>
            [Weight(o, prefix, outF, inF), new(prefix + ".bias", [outF], t => Gaussian(o, t, outF, 0.1f))];

        yield return new(d + "embed_tokens.weight", [o.Vocab, words], t => Embedding(o, t, o.Vocab, words));
        yield return new(d + "embed_positions.weight", [o.MaxPositions + OptConfig.PositionOffset, h],
                         t => Gaussian(o, t, (long)(o.MaxPositions + OptConfig.PositionOffset) * h, 0.5f));
        if (words != h) yield return Weight(o, d + "project_in", h, words);
        for (int i = 0; i < o.Layers; i++)
        {
            string p = $"{d}layers.{i}.";
            foreach (var t in Norm(p + "self_attn_layer_norm")) yield return t;
            foreach (var name in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
                foreach (var t in Linear(p + "self_attn." + name, h, h)) yield return t;
            foreach (var t in Norm(p + "final_layer_norm")) yield return t;
            foreach (var t in Linear(p + "fc1", f, h)) yield return t;
            foreach (var t in Linear(p + "fc2", h, f)) yield return t;
        }
        if (!o.PostLayerNorm) foreach (var t in Norm(d + "final_layer_norm")) yield return t;
        if (words != h) yield return Weight(o, d + "project_out", words, h);
        if (!o.TieEmbeddings) yield return LmHead(o, words);
    }

    /// <summary>The tensors' sizes; per-layer tensors are named for layer 0.</summary>
    public IEnumerable<SynthTensorGroup> Footprint(SynthOptions o)
    {
        double h = o.Hidden, layers = o.Layers, vocab = o.Vocab, words = o.WordEmbedDim ?? o.Hidden, f = SynthFootprint.Intermediate(o);
        const string d = "model.decoder.", p = d + "layers.0.";
        var list = new List<SynthTensorGroup>
        {
            new(d + "embed_tokens.weight", vocab, words, 1),
            new(d + "embed_positions.weight", (double)o.MaxPositions + OptConfig.PositionOffset, h, 1),
            new(p + "self_attn_layer_norm.weight", h, 1, 4 * layers), new(p + "self_attn.q_proj.weight", h, h, 4 * layers),
            new(p + "self_attn.q_proj.bias", h, 1, 4 * layers), new(p + "fc1.weight", f, h, 2 * layers), new(p + "fc1.bias", f, 1, layers),
            new(p + "fc2.bias", h, 1, layers),
        };
        if (words != h) list.AddRange([new(d + "project_in.weight", h, words, 1), new(d + "project_out.weight", words, h, 1)]);
        if (!o.PostLayerNorm) list.Add(new(d + "final_layer_norm.weight", h, 1, 2));
        if (!o.TieEmbeddings) list.Add(new("lm_head.weight", vocab, words, 1));
        return list;
    }
}
