namespace Qzo.Models.Architectures.LlamaLayout;

/// <summary>
/// The Llama layout's config.json, shared by the families whose layer is a <see cref="LlamaLayer"/>. The keys every such
/// family reads are read here; what differs (biases, sliding windows) the family's <see cref="LlamaLayoutArchitecture"/> says.
/// </summary>
public sealed record LlamaConfig : ModelConfig
{
    public required int IntermediateSize { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required float RmsNormEps { get; init; }
    public required RopeConfig Rope { get; init; }
    /// <summary>q_proj, k_proj and v_proj have biases (Qwen2; Llama with attention_bias).</summary>
    public bool QkvBias { get; init; }
    /// <summary>o_proj has a bias (Llama with attention_bias).</summary>
    public bool OutputBias { get; init; }
    public bool MlpBias { get; init; }
    /// <summary>q and k get a per-head RMSNorm (weights [head_dim]) after their projections, before RoPE (Qwen3).</summary>
    public bool QkNorm { get; init; }
    /// <summary>Each layer's sliding attention window (0 = full attention); null = no window anywhere.</summary>
    public int[]? LayerWindows { get; init; }

    public int AttentionWindow(int layer) => LayerWindows is null ? 0 : LayerWindows[layer];

    internal static LlamaConfig FromJson(JsonConfigReader c, LlamaLayoutArchitecture architecture)
    {
        string act = c.String("hidden_act") ?? "silu";
        if (act != "silu") throw new QzoException(
            $"{c.SourceFile}: hidden_act '{act}' is not supported ({architecture.ClassName} is implemented with silu)");
        if (c.Double("partial_rotary_factor", 1) != 1)
            throw new QzoException(
                $"{c.SourceFile}: partial_rotary_factor {c.Double("partial_rotary_factor", 1)} is not supported (only 1: rotary " +
                "embedding over the whole head)");

        int hidden = c.RequireInt("hidden_size"), heads = c.RequireInt("num_attention_heads"), layers = c.RequireInt("num_hidden_layers");
        var biases = architecture.Biases(c);
        var (bos, eos, pad) = TokenIds(c);
        var config = new LlamaConfig
        {
            Architecture = architecture,
            VocabSize = c.RequireInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = c.RequireInt("intermediate_size"),
            Layers = layers,
            Heads = heads,
            KvHeads = c.Int("num_key_value_heads", heads),
            HeadDim = c.Int("head_dim", architecture.DefaultHeadDim(hidden, heads)),
            RmsNormEps = (float)c.Double("rms_norm_eps", 1e-6),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", false),
            Rope = RopeConfig.Parse(c),
            MaxPositions = c.Int("max_position_embeddings", 2048),
            QkvBias = biases.Qkv,
            OutputBias = biases.Output,
            MlpBias = biases.Mlp,
            QkNorm = architecture.HasQkNorm,
            LayerWindows = architecture.Windows(c, layers),
            BosTokenId = bos, EosTokenIds = eos, PadTokenId = pad,
            Json = c.Json,
        };
        config.Validate(c.SourceFile);
        return config;
    }

    void Validate(string source)
    {
        Positive(source, VocabSize, "vocab_size"); Positive(source, HiddenSize, "hidden_size");
        Positive(source, IntermediateSize, "intermediate_size");
        Positive(source, Layers, "num_hidden_layers"); Positive(source, Heads, "num_attention_heads");
        Positive(source, KvHeads, "num_key_value_heads");
        Positive(source, HeadDim, "head_dim");
        if (Heads % KvHeads != 0)
            throw new QzoException($"{source}: num_attention_heads ({Heads}) must be a multiple of num_key_value_heads ({KvHeads})");
        if (HeadDim % 2 != 0) throw new QzoException($"{source}: head_dim ({HeadDim}) must be even for rotary embeddings");
        if (!(RmsNormEps > 0)) throw new QzoException($"{source}: 'rms_norm_eps' must be positive");
    }

    public override long ParameterCount =>
        (long)VocabSize * HiddenSize * (TieWordEmbeddings ? 1 : 2) + HiddenSize
        + (long)Layers * (2L * HiddenSize
            + (long)HiddenSize * Heads * HeadDim * 2 + (long)HiddenSize * KvHeads * HeadDim * 2
            + 3L * HiddenSize * IntermediateSize
            + (QkvBias ? Heads * HeadDim + 2 * KvHeads * HeadDim : 0) + (OutputBias ? HiddenSize : 0)
            + (MlpBias ? 2 * IntermediateSize + HiddenSize : 0) + (QkNorm ? 2 * HeadDim : 0));

    public override IEnumerable<(string Key, string Value)> Describe()
    {
        yield return ("model", $"{Architecture.ClassName}, {Layers} layers, hidden {HiddenSize}, intermediate {IntermediateSize}");
        var windows = LayerWindows?.Where(w => w > 0).Distinct().ToList() ?? [];
        yield return ("attention", $"{Heads} heads × {HeadDim}, {KvHeads} kv heads{(KvHeads < Heads ? " (GQA)" : "")}"
            + (QkvBias ? ", q/k/v biases" : "") + (QkNorm ? ", q/k norms" : "")
            + (windows.Count == 0 ? ""
                : $", sliding window {string.Join("/", windows)} on {LayerWindows!.Count(w => w > 0)} of {Layers} layers"));
        yield return ("vocab", $"{VocabSize}{(TieWordEmbeddings ? ", tied embeddings" : "")}");
        yield return ("rope", Rope.ToJson().ToJsonString());
    }
}
