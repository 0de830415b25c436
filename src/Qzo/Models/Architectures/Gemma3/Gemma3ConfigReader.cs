using System.Text.Json.Nodes;

namespace Qzo.Models.Architectures.Gemma3;

/// <summary>
/// Reads <see cref="Gemma3Config"/> as Gemma3TextConfig does, defaults included: `layer_types`, or else the legacy
/// `sliding_window_pattern` (every n-th layer global, n = 6 by default); RoPE per layer type from `rope_parameters`
/// keyed by layer type (transformers 5) and from the Hub's legacy `rope_theta` (global layers, 1e6 by default),
/// `rope_local_base_freq` (local layers, 1e4) and `rope_scaling` (global layers only). `attn_logit_softcapping` is validated
/// and, as in transformers' Gemma 3 (whose attention never passes it on, unlike Gemma 2's), not applied; the fixture
/// gemma3-softcap-fp32 sets it and matches transformers only without it.
/// </summary>
static class Gemma3ConfigReader
{
    const string Sliding = "sliding_attention", Full = "full_attention";

    public static Gemma3Config Read(JsonConfigReader c, IArchitecture architecture, bool tieDefault)
    {
        string act = c.String("hidden_activation") ?? "gelu_pytorch_tanh";
        if (act != "gelu_pytorch_tanh")
            throw new QzoException($"{c.SourceFile}: hidden_activation '{act}' is not supported (Gemma 3 runs gelu_pytorch_tanh)");
        if (c.Bool("use_bidirectional_attention", false))
            throw new QzoException($"{c.SourceFile}: use_bidirectional_attention is not supported (Qzo's Gemma 3 is causal)");

        int hidden = c.RequireInt("hidden_size"), heads = c.RequireInt("num_attention_heads"), layers = c.RequireInt("num_hidden_layers");
        var (bos, eos, pad) = (c.Has("bos_token_id") ? c.IntList("bos_token_id").FirstOrDefault() : 2,
                               c.Has("eos_token_id") ? c.IntList("eos_token_id") : [1],
                               c.Has("pad_token_id") ? c.IntList("pad_token_id").FirstOrDefault() : (int?)0);
        var config = new Gemma3Config
        {
            Architecture = architecture,
            VocabSize = c.RequireInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = c.RequireInt("intermediate_size"),
            Layers = layers,
            Heads = heads,
            KvHeads = c.Int("num_key_value_heads", 4),
            HeadDim = c.Int("head_dim", 256),
            RmsNormEps = (float)c.Double("rms_norm_eps", 1e-6),
            QueryPreAttnScalar = c.Double("query_pre_attn_scalar", 256),
            SlidingLayers = SlidingLayers(c, layers),
            SlidingWindow = c.Has("sliding_window") ? c.RequireInt("sliding_window") : c.Json.ContainsKey("sliding_window") ? 0 : 4096,
            LocalRope = Rope(c, Sliding),
            GlobalRope = Rope(c, Full),
            AttentionBias = c.Bool("attention_bias", false),
            FinalSoftcap = Softcap(c, "final_logit_softcapping"),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", tieDefault),
            MaxPositions = c.Int("max_position_embeddings", 131_072),
            BosTokenId = bos, EosTokenIds = eos, PadTokenId = pad,
            Json = c.Json,
        };
        Softcap(c, "attn_logit_softcapping"); // validated only: see the summary
        Validate(config, c.SourceFile);
        return config;
    }

    static bool[] SlidingLayers(JsonConfigReader c, int layers)
    {
        if (c.Json["layer_types"] is JsonArray types)
        {
            if (types.Count != layers)
                throw new QzoException($"{c.SourceFile}: 'layer_types' has {types.Count} entries for {layers} layers");
            return types.Select((t, i) => t?.GetValue<string>() switch
            {
                Sliding => true,
                Full => false,
                var other => throw new QzoException($"{c.SourceFile}: layer_types[{i}] '{other}' is not supported ({Full}, {Sliding})"),
            }).ToArray();
        }
        int pattern = c.Int("sliding_window_pattern", 6);
        if (pattern <= 0) throw new QzoException($"{c.SourceFile}: 'sliding_window_pattern' must be positive, got {pattern}");
        return Enumerable.Range(0, Math.Max(layers, 0)).Select(i => (i + 1) % pattern != 0).ToArray();
    }

    /// <summary>One layer type's RoPE, as Gemma3TextConfig.convert_rope_params_to_dict builds it.</summary>
    static RopeConfig Rope(JsonConfigReader c, string layerType)
    {
        var parameters = new JsonObject();
        if (c.Json["rope_parameters"] is JsonObject all && all[layerType] is JsonObject given)
            foreach (var (key, value) in given) parameters[key] = value?.DeepClone();
        if (layerType == Full && c.Json["rope_scaling"] is JsonObject scaling)
            foreach (var (key, value) in scaling) parameters[key] = value?.DeepClone();
        if (!parameters.ContainsKey("rope_theta"))
            parameters["rope_theta"] = layerType == Full ? c.Double("rope_theta", 1_000_000) : c.Double("rope_local_base_freq", 10_000);
        var reader = new JsonConfigReader(new JsonObject { ["rope_parameters"] = parameters }, $"{c.SourceFile} ({layerType} RoPE)");
        return RopeConfig.Parse(reader);
    }

    static float? Softcap(JsonConfigReader c, string key)
    {
        if (!c.Has(key)) return null;
        double cap = c.Double(key, 0);
        return cap > 0 ? (float)cap : throw new QzoException($"{c.SourceFile}: '{key}' must be positive or null, got {cap}");
    }

    static void Validate(Gemma3Config c, string source)
    {
        foreach (var (value, key) in new[] { (c.VocabSize, "vocab_size"), (c.HiddenSize, "hidden_size"),
                                             (c.IntermediateSize, "intermediate_size"), (c.Layers, "num_hidden_layers"),
                                             (c.Heads, "num_attention_heads"), (c.KvHeads, "num_key_value_heads"),
                                             (c.HeadDim, "head_dim") })
            if (value <= 0) throw new QzoException($"{source}: '{key}' must be positive, got {value}");
        if (c.Heads % c.KvHeads != 0)
            throw new QzoException($"{source}: num_attention_heads ({c.Heads}) must be a multiple of num_key_value_heads ({c.KvHeads})");
        if (c.HeadDim % 2 != 0) throw new QzoException($"{source}: head_dim ({c.HeadDim}) must be even for rotary embeddings");
        if (c.SlidingWindow < 0) throw new QzoException($"{source}: 'sliding_window' must be positive or null, got {c.SlidingWindow}");
        if (!(c.RmsNormEps > 0)) throw new QzoException($"{source}: 'rms_norm_eps' must be positive");
        if (!(c.QueryPreAttnScalar > 0)) throw new QzoException($"{source}: 'query_pre_attn_scalar' must be positive");
    }
}
