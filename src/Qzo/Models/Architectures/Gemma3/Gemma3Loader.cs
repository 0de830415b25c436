namespace Qzo.Models.Architectures.Gemma3;

/// <summary>The tensors of a Gemma 3 checkpoint assembled into a <see cref="Gemma3Model"/>; the vision tower is ignored.</summary>
static class Gemma3Loader
{
    public static Gemma3Model Build(ParameterLoader p, Gemma3Config c, IProgress<double>? progress)
    {
        string prefix = Gemma3Tensors.Prefix(p.Checkpoint);
        int h = c.HiddenSize;
        var part = p.Part;
        var embedding = part.LoadsEmbedding(c.TieWordEmbeddings) ? p.Dense(prefix + "embed_tokens.weight", [c.VocabSize, h]) : null;
        var layers = new List<Gemma3Layer>();
        for (int i = part.FirstLayer; i < part.EndLayer; i++)
        {
            layers.Add(BuildLayer(p, c, prefix, i));
            progress?.Report((i - part.FirstLayer + 1.0) / (part.LayerCount + 1));
        }
        var finalNorm = part.HoldsHead ? p.Dense(prefix + "norm.weight", [h]) : null;
        string head = Gemma3Tensors.LmHead(p.Checkpoint, prefix);
        ILinear? lmHead = !part.HoldsHead ? null
            : c.TieWordEmbeddings ? new DenseLinear("lm_head", embedding!, null) : p.Linear(head, h, c.VocabSize, hasBias: false);
        if (c.TieWordEmbeddings) p.Ignore(head + ".weight"); // transformers ties it to the embedding and ignores a stored copy
        foreach (var name in Gemma3Tensors.Vision(p.Checkpoint)) p.Ignore(name);
        return new Gemma3Model(c, p.Backend, part, embedding, layers, finalNorm, lmHead, p.Unused());
    }

    public static Gemma3Layer BuildLayer(ParameterLoader p, Gemma3Config c, string modelPrefix, int i)
    {
        int h = c.HiddenSize, q = c.Heads * c.HeadDim, kv = c.KvHeads * c.HeadDim;
        string prefix = $"{modelPrefix}layers.{i}.";
        return new Gemma3Layer
        {
            InputNorm = p.Dense(prefix + "input_layernorm.weight", [h]),
            PostAttentionNorm = p.Dense(prefix + "post_attention_layernorm.weight", [h]),
            PreFeedforwardNorm = p.Dense(prefix + "pre_feedforward_layernorm.weight", [h]),
            PostFeedforwardNorm = p.Dense(prefix + "post_feedforward_layernorm.weight", [h]),
            QNorm = p.Dense(prefix + "self_attn.q_norm.weight", [c.HeadDim]),
            KNorm = p.Dense(prefix + "self_attn.k_norm.weight", [c.HeadDim]),
            Q = p.Linear(prefix + "self_attn.q_proj", h, q, c.AttentionBias),
            K = p.Linear(prefix + "self_attn.k_proj", h, kv, c.AttentionBias),
            V = p.Linear(prefix + "self_attn.v_proj", h, kv, c.AttentionBias),
            O = p.Linear(prefix + "self_attn.o_proj", q, h, c.AttentionBias),
            Gate = p.Linear(prefix + "mlp.gate_proj", h, c.IntermediateSize, false),
            Up = p.Linear(prefix + "mlp.up_proj", h, c.IntermediateSize, false),
            Down = p.Linear(prefix + "mlp.down_proj", c.IntermediateSize, h, false),
        };
    }
}
