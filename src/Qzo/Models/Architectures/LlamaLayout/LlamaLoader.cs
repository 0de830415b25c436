namespace Qzo.Models.Architectures.LlamaLayout;

/// <summary>The tensors of a Llama-layout checkpoint (Llama, Mistral, Qwen2), assembled into a <see cref="LlamaModel"/>.</summary>
static class LlamaLoader
{
    /// <summary>The tensors of the loader's part: its layers, and the ends it holds.</summary>
    public static LlamaModel Build(ParameterLoader p, LlamaConfig c, IProgress<double>? progress)
    {
        int h = c.HiddenSize;
        var part = p.Part;
        var embedding = part.LoadsEmbedding(c.TieWordEmbeddings) ? p.Dense("model.embed_tokens.weight", [c.VocabSize, h]) : null;
        var layers = new List<LlamaLayer>();
        for (int i = part.FirstLayer; i < part.EndLayer; i++)
        {
            layers.Add(BuildLayer(p, c, i));
            progress?.Report((i - part.FirstLayer + 1.0) / (part.LayerCount + 1));
        }
        var finalNorm = part.HoldsHead ? p.Dense("model.norm.weight", [h]) : null;
        ILinear? lmHead = !part.HoldsHead ? null
            : c.TieWordEmbeddings ? new DenseLinear("lm_head", embedding!, null)
            : p.Linear("lm_head", h, c.VocabSize, hasBias: false);
        if (c.TieWordEmbeddings) p.Ignore("lm_head.weight"); // transformers ties it to the embedding and ignores a stored copy
        return new LlamaModel(c, p.Backend, part, embedding, layers, finalNorm, lmHead, p.Unused());
    }

    /// <summary>Decoder layer <paramref name="i"/>'s tensors, read from the checkpoint as the loader's backend holds them.</summary>
    public static LlamaLayer BuildLayer(ParameterLoader p, LlamaConfig c, int i)
    {
        int h = c.HiddenSize, q = c.Heads * c.HeadDim, kv = c.KvHeads * c.HeadDim;
        string prefix = $"model.layers.{i}.";
        return new LlamaLayer
        {
            InputNorm = p.Dense(prefix + "input_layernorm.weight", [h]),
            PostAttentionNorm = p.Dense(prefix + "post_attention_layernorm.weight", [h]),
            Q = p.Linear(prefix + "self_attn.q_proj", h, q, c.QkvBias),
            K = p.Linear(prefix + "self_attn.k_proj", h, kv, c.QkvBias),
            V = p.Linear(prefix + "self_attn.v_proj", h, kv, c.QkvBias),
            O = p.Linear(prefix + "self_attn.o_proj", q, h, c.OutputBias),
            Gate = p.Linear(prefix + "mlp.gate_proj", h, c.IntermediateSize, c.MlpBias),
            Up = p.Linear(prefix + "mlp.up_proj", h, c.IntermediateSize, c.MlpBias),
            Down = p.Linear(prefix + "mlp.down_proj", c.IntermediateSize, h, c.MlpBias),
            QNorm = c.QkNorm ? p.Dense(prefix + "self_attn.q_norm.weight", [c.HeadDim]) : null,
            KNorm = c.QkNorm ? p.Dense(prefix + "self_attn.k_norm.weight", [c.HeadDim]) : null,
        };
    }
}
