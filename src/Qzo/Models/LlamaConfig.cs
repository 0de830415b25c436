namespace Qzo.Models;

/// <summary>
/// The Llama layout's config.json: Llama (optional biases on every attention or MLP linear), Mistral (a sliding
/// attention window) and Qwen2 (q/k/v biases; a window on some layers only when `use_sliding_window`).
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
    /// <summary>Each layer's sliding attention window (0 = full attention); null = no window anywhere.</summary>
    public int[]? LayerWindows { get; init; }

    public int AttentionWindow(int layer) => LayerWindows is null ? 0 : LayerWindows[layer];

    public static LlamaConfig FromJson(JsonConfigReader c, ArchitectureKind kind)
    {
        if (kind is not (ArchitectureKind.Llama or ArchitectureKind.Mistral or ArchitectureKind.Qwen2))
            throw new ArgumentException($"{kind} is not of the Llama layout", nameof(kind));
        string act = c.String("hidden_act") ?? "silu";
        if (act != "silu") throw new QzoException($"{c.SourceFile}: hidden_act '{act}' is not supported ({kind.ClassName()} is implemented with silu)");
        if (c.Double("partial_rotary_factor", 1) != 1)
            throw new QzoException($"{c.SourceFile}: partial_rotary_factor {c.Double("partial_rotary_factor", 1)} is not supported (only 1: rotary embedding over the whole head)");

        int hidden = c.RequireInt("hidden_size"), heads = c.RequireInt("num_attention_heads"), layers = c.RequireInt("num_hidden_layers");
        bool attentionBias = kind == ArchitectureKind.Llama && c.Bool("attention_bias", false);
        var (bos, eos, pad) = TokenIds(c);
        var config = new LlamaConfig
        {
            Architecture = kind,
            VocabSize = c.RequireInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = c.RequireInt("intermediate_size"),
            Layers = layers,
            Heads = heads,
            KvHeads = c.Int("num_key_value_heads", heads),
            HeadDim = c.Int("head_dim", heads > 0 ? hidden / heads : 0),
            RmsNormEps = (float)c.Double("rms_norm_eps", 1e-6),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", false),
            Rope = RopeConfig.Parse(c),
            MaxPositions = c.Int("max_position_embeddings", 2048),
            QkvBias = kind == ArchitectureKind.Qwen2 || attentionBias,
            OutputBias = attentionBias,
            MlpBias = kind == ArchitectureKind.Llama && c.Bool("mlp_bias", false),
            LayerWindows = Windows(c, kind, layers),
            BosTokenId = bos, EosTokenIds = eos, PadTokenId = pad,
            Json = c.Json,
        };
        config.Validate(c.SourceFile);
        return config;
    }

    /// <summary>
    /// Mistral: `sliding_window` (null = none) on every layer. Qwen2: only with `use_sliding_window`, on the
    /// layers `layer_types` marks "sliding_attention", or else on layers ≥ `max_window_layers`
    /// (transformers' Qwen2Config). Llama: none.
    /// </summary>
    static int[]? Windows(JsonConfigReader c, ArchitectureKind kind, int layers)
    {
        int Window() => c.RequireInt("sliding_window") is var w && w > 0 ? w
            : throw new QzoException($"{c.SourceFile}: 'sliding_window' must be positive or null, got {w}");
        if (kind == ArchitectureKind.Mistral)
            return c.Has("sliding_window") ? Enumerable.Repeat(Window(), Math.Max(layers, 0)).ToArray() : null;
        if (kind != ArchitectureKind.Qwen2 || !c.Bool("use_sliding_window", false) || !c.Has("sliding_window")) return null;

        int window = Window();
        if (c.Json["layer_types"] is System.Text.Json.Nodes.JsonArray types)
        {
            if (types.Count != layers) throw new QzoException($"{c.SourceFile}: 'layer_types' has {types.Count} entries for {layers} layers");
            return types.Select((t, i) => t?.GetValue<string>() switch
            {
                "sliding_attention" => window,
                "full_attention" => 0,
                var other => throw new QzoException($"{c.SourceFile}: layer_types[{i}] '{other}' is not supported (full_attention, sliding_attention)"),
            }).ToArray();
        }
        int fullLayers = c.Int("max_window_layers", layers);
        return Enumerable.Range(0, Math.Max(layers, 0)).Select(i => i >= fullLayers ? window : 0).ToArray();
    }

    void Validate(string source)
    {
        Positive(source, VocabSize, "vocab_size"); Positive(source, HiddenSize, "hidden_size"); Positive(source, IntermediateSize, "intermediate_size");
        Positive(source, Layers, "num_hidden_layers"); Positive(source, Heads, "num_attention_heads"); Positive(source, KvHeads, "num_key_value_heads");
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
            + (MlpBias ? 2 * IntermediateSize + HiddenSize : 0));

    public override IEnumerable<(string Key, string Value)> Describe()
    {
        yield return ("model", $"{Architecture.ClassName()}, {Layers} layers, hidden {HiddenSize}, intermediate {IntermediateSize}");
        var windows = LayerWindows?.Where(w => w > 0).Distinct().ToList() ?? [];
        yield return ("attention", $"{Heads} heads × {HeadDim}, {KvHeads} kv heads{(KvHeads < Heads ? " (GQA)" : "")}"
            + (QkvBias ? ", q/k/v biases" : "")
            + (windows.Count == 0 ? "" : $", sliding window {string.Join("/", windows)} on {LayerWindows!.Count(w => w > 0)} of {Layers} layers"));
        yield return ("vocab", $"{VocabSize}{(TieWordEmbeddings ? ", tied embeddings" : "")}");
        yield return ("rope", Rope.ToJson().ToJsonString());
    }
}
