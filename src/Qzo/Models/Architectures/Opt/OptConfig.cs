namespace Qzo.Models.Architectures.Opt;

/// <summary>
/// OPTForCausalLM's config.json (transformers' OPTConfig): learned positions, LayerNorm, a ReLU MLP of
/// `ffn_dim`, biases everywhere unless `enable_bias` is false, and optional `project_in`/`project_out` when
/// `word_embed_proj_dim` differs from `hidden_size` (opt-350m).
/// </summary>
public sealed record OptConfig : ModelConfig
{
    /// <summary>OPTLearnedPositionalEmbedding: position p is row p + 2 of embed_positions (fairseq's padding offset).</summary>
    public const int PositionOffset = 2;
    /// <summary>torch.nn.LayerNorm's default; OPT's config has no key for it.</summary>
    public const float LayerNormEps = 1e-5f;

    public required int FfnDim { get; init; }
    public required int Heads { get; init; }
    public required int WordEmbedProjDim { get; init; }
    /// <summary>Pre-LayerNorm layers (every OPT but 350m); false: the norm follows each residual add.</summary>
    public required bool DoLayerNormBefore { get; init; }
    /// <summary>model.decoder.final_layer_norm exists (only with pre-LayerNorm, unless `_remove_final_layer_norm`).</summary>
    public required bool FinalLayerNorm { get; init; }
    public required bool EnableBias { get; init; }
    /// <summary>LayerNorms have a weight and a bias (`layer_norm_elementwise_affine`).</summary>
    public required bool LayerNormAffine { get; init; }

    public int HeadDim => HiddenSize / Heads;
    public bool ProjectsWords => WordEmbedProjDim != HiddenSize;

    public static OptConfig FromJson(JsonConfigReader c)
    {
        string act = c.String("activation_function") ?? "relu";
        if (act != "relu") throw new QzoException(
            $"{c.SourceFile}: activation_function '{act}' is not supported (OPTForCausalLM is implemented with relu)");
        int hidden = c.Has("hidden_size") ? c.RequireInt("hidden_size") : c.RequireInt("d_model"); // d_model: transformers < 4.20
        bool before = c.Bool("do_layer_norm_before", true);
        var (bos, eos, pad) = TokenIds(c);
        var config = new OptConfig
        {
            Architecture = ArchitectureRegistry.Opt,
            VocabSize = c.RequireInt("vocab_size"),
            HiddenSize = hidden,
            FfnDim = c.RequireInt("ffn_dim"),
            Layers = c.RequireInt("num_hidden_layers"),
            Heads = c.RequireInt("num_attention_heads"),
            WordEmbedProjDim = c.Int("word_embed_proj_dim", hidden),
            DoLayerNormBefore = before,
            FinalLayerNorm = before && !c.Bool("_remove_final_layer_norm", false),
            EnableBias = c.Bool("enable_bias", true),
            LayerNormAffine = c.Bool("layer_norm_elementwise_affine", true),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", true), // transformers' default for OPT
            MaxPositions = c.Int("max_position_embeddings", 2048),
            BosTokenId = bos, EosTokenIds = eos, PadTokenId = pad,
            Json = c.Json,
        };
        config.Validate(c.SourceFile);
        return config;
    }

    void Validate(string source)
    {
        Positive(source, VocabSize, "vocab_size"); Positive(source, HiddenSize, "hidden_size"); Positive(source, FfnDim, "ffn_dim");
        Positive(source, Layers, "num_hidden_layers"); Positive(source, Heads, "num_attention_heads");
        Positive(source, WordEmbedProjDim, "word_embed_proj_dim"); Positive(source, MaxPositions, "max_position_embeddings");
        if (HiddenSize % Heads != 0) throw new QzoException(
            $"{source}: hidden_size ({HiddenSize}) must be a multiple of num_attention_heads ({Heads})");
    }

    public override long ParameterCount
    {
        get
        {
            long h = HiddenSize, norm = LayerNormAffine ? 2 * h : 0, bias = EnableBias ? 1 : 0;
            long layer = 4 * (h * h + bias * h) + h * FfnDim + bias * FfnDim + FfnDim * h + bias * h + 2 * norm;
            return (long)VocabSize * WordEmbedProjDim * (TieWordEmbeddings ? 1 : 2) + (MaxPositions + PositionOffset) * h
                + (ProjectsWords ? 2L * WordEmbedProjDim * h : 0) + (FinalLayerNorm ? norm : 0) + Layers * layer;
        }
    }

    public override IEnumerable<(string Key, string Value)> Describe()
    {
        yield return ("model", $"OPTForCausalLM, {Layers} layers, hidden {HiddenSize}, ffn {FfnDim}, "
                               + (DoLayerNormBefore ? "pre-LayerNorm" : "post-LayerNorm") + (EnableBias ? "" : ", no biases"));
        yield return ("attention", $"{Heads} heads × {HeadDim}");
        yield return ("vocab", $"{VocabSize}{(TieWordEmbeddings ? ", tied embeddings" : "")}"
                               + (ProjectsWords ? $", word embeddings {WordEmbedProjDim} (project_in/project_out)" : ""));
        yield return ("positions", $"learned, {MaxPositions} (+{PositionOffset})");
    }
}
