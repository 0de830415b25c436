namespace Qzo.Models.Architectures.Opt;

/// <summary>The tensors of an OPTForCausalLM checkpoint (transformers' names), assembled into an <see cref="OptModel"/>.</summary>
static class OptLoader
{
    const string Decoder = "model.decoder.";

    public static OptModel Build(ParameterLoader p, OptConfig c, IProgress<double>? progress)
    {
        int h = c.HiddenSize, words = c.WordEmbedProjDim;
        const string d = Decoder;

        var part = p.Part;
        bool input = part.HoldsEmbedding, output = part.HoldsHead;
        var embedding = part.LoadsEmbedding(c.TieWordEmbeddings) ? p.Dense(d + "embed_tokens.weight", [c.VocabSize, words]) : null;
        var positions = input ? p.Dense(d + "embed_positions.weight", [c.MaxPositions + OptConfig.PositionOffset, h]) : null;
        var projectIn = input && c.ProjectsWords ? p.Linear(d + "project_in", words, h, hasBias: false) : null;
        var layers = new List<OptLayer>();
        for (int i = part.FirstLayer; i < part.EndLayer; i++)
        {
            layers.Add(BuildLayer(p, c, i));
            progress?.Report((i - part.FirstLayer + 1.0) / (part.LayerCount + 1));
        }
        var finalNorm = output && c.FinalLayerNorm ? Norm(p, c, d + "final_layer_norm") : null;
        var projectOut = output && c.ProjectsWords ? p.Linear(d + "project_out", h, words, hasBias: false) : null;
        ILinear? lmHead = !output ? null
            : c.TieWordEmbeddings ? new DenseLinear("lm_head", embedding!, null)
            : p.Linear("lm_head", words, c.VocabSize, hasBias: false);
        if (c.TieWordEmbeddings) p.Ignore("lm_head.weight"); // transformers ties it to the embedding and ignores a stored copy
        return new OptModel(c, p.Backend, part, embedding, positions, projectIn, layers, finalNorm, projectOut, lmHead, p.Unused());
    }

    /// <summary>Decoder layer <paramref name="i"/>'s tensors, read from the checkpoint as the loader's backend holds them.</summary>
    public static OptLayer BuildLayer(ParameterLoader p, OptConfig c, int i)
    {
        int h = c.HiddenSize;
        string prefix = $"{Decoder}layers.{i}.";
        return new OptLayer
        {
            AttentionNorm = Norm(p, c, prefix + "self_attn_layer_norm"),
            MlpNorm = Norm(p, c, prefix + "final_layer_norm"),
            Q = p.Linear(prefix + "self_attn.q_proj", h, h, c.EnableBias),
            K = p.Linear(prefix + "self_attn.k_proj", h, h, c.EnableBias),
            V = p.Linear(prefix + "self_attn.v_proj", h, h, c.EnableBias),
            Out = p.Linear(prefix + "self_attn.out_proj", h, h, c.EnableBias),
            Fc1 = p.Linear(prefix + "fc1", h, c.FfnDim, c.EnableBias),
            Fc2 = p.Linear(prefix + "fc2", c.FfnDim, h, c.EnableBias),
        };
    }

    static LayerNormParameters Norm(ParameterLoader p, OptConfig c, string prefix) => c.LayerNormAffine
        ? new LayerNormParameters(p.Dense(prefix + ".weight", [c.HiddenSize]), p.Dense(prefix + ".bias", [c.HiddenSize]))
        : new LayerNormParameters(null, null);
}
