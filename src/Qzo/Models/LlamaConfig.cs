using System.Text.Json.Nodes;

namespace Qzo.Models;

/// <summary>The Llama family's config.json (LlamaForCausalLM), validated; unknown model types refused by name.</summary>
public sealed record LlamaConfig
{
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required float RmsNormEps { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public required RopeConfig Rope { get; init; }
    public int MaxPositions { get; init; } = 2048;
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public int? BosTokenId { get; init; }
    public int[] EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    /// <summary>The whole config.json as read, so exports can keep every key.</summary>
    public JsonObject? Json { get; init; }

    public static LlamaConfig Load(string path) => Parse(JsonConfigReader.Load(path));

    public static LlamaConfig Parse(JsonConfigReader c)
    {
        string? modelType = c.String("model_type");
        if (modelType is null) throw c.Missing("model_type");
        if (modelType != "llama")
            throw new QzoException($"{c.SourceFile}: model_type '{modelType}' is not supported (supported: llama)");
        if (c.Json["architectures"] is JsonArray archs && archs.Count > 0)
        {
            var names = archs.Select(a => a?.GetValue<string>()).ToList();
            if (!names.Contains("LlamaForCausalLM"))
                throw new QzoException($"{c.SourceFile}: architecture {string.Join(", ", names)} is not supported (supported: LlamaForCausalLM)");
        }
        string act = c.String("hidden_act") ?? "silu";
        if (act != "silu") throw new QzoException($"{c.SourceFile}: hidden_act '{act}' is not supported (Llama uses silu)");
        if (c.Int("pretraining_tp", 1) != 1) { /* only affects how Meta split matmuls; the result is the same */ }

        int hidden = c.RequireInt("hidden_size"), heads = c.RequireInt("num_attention_heads");
        var config = new LlamaConfig
        {
            VocabSize = c.RequireInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = c.RequireInt("intermediate_size"),
            Layers = c.RequireInt("num_hidden_layers"),
            Heads = heads,
            KvHeads = c.Int("num_key_value_heads", heads),
            HeadDim = c.Int("head_dim", heads > 0 ? hidden / heads : 0),
            RmsNormEps = (float)c.Double("rms_norm_eps", 1e-6),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", false),
            Rope = RopeConfig.Parse(c),
            MaxPositions = c.Int("max_position_embeddings", 2048),
            AttentionBias = c.Bool("attention_bias", false),
            MlpBias = c.Bool("mlp_bias", false),
            BosTokenId = c.Has("bos_token_id") ? c.IntList("bos_token_id").FirstOrDefault() : null,
            EosTokenIds = c.IntList("eos_token_id"),
            PadTokenId = c.Has("pad_token_id") ? c.IntList("pad_token_id").FirstOrDefault() : null,
            Json = c.Json,
        };
        config.Validate(c.SourceFile);
        return config;
    }

    void Validate(string source)
    {
        void Positive(int value, string key) { if (value <= 0) throw new QzoException($"{source}: '{key}' must be positive, got {value}"); }
        Positive(VocabSize, "vocab_size"); Positive(HiddenSize, "hidden_size"); Positive(IntermediateSize, "intermediate_size");
        Positive(Layers, "num_hidden_layers"); Positive(Heads, "num_attention_heads"); Positive(KvHeads, "num_key_value_heads");
        Positive(HeadDim, "head_dim");
        if (Heads % KvHeads != 0)
            throw new QzoException($"{source}: num_attention_heads ({Heads}) must be a multiple of num_key_value_heads ({KvHeads})");
        if (HeadDim % 2 != 0) throw new QzoException($"{source}: head_dim ({HeadDim}) must be even for rotary embeddings");
        if (!(RmsNormEps > 0)) throw new QzoException($"{source}: 'rms_norm_eps' must be positive");
    }

    public long ParameterCount =>
        (long)VocabSize * HiddenSize * (TieWordEmbeddings ? 1 : 2) + HiddenSize
        + (long)Layers * (2L * HiddenSize
            + (long)HiddenSize * Heads * HeadDim * 2 + (long)HiddenSize * KvHeads * HeadDim * 2
            + 3L * HiddenSize * IntermediateSize
            + (AttentionBias ? Heads * HeadDim * 2 + KvHeads * HeadDim * 2 : 0)
            + (MlpBias ? 2 * IntermediateSize + HiddenSize : 0));
}
