using System.Text.Json.Nodes;
using Qzo.Models;

namespace Qzo.Encoders.T5;

/// <summary>The feed-forward block a T5 config names: its activation and whether wi_0's activation gates wi_1.</summary>
public enum T5FeedForward { GatedGeluTanh, GatedSilu, Relu, GeluErf, GeluTanh, Silu }

/// <summary>
/// A T5 encoder's config.json (transformers' T5Config, model_type "t5"): T5 v1.1 XXL as Stable Diffusion 3 ships it in
/// text_encoder_3/ (gated-gelu, 64 heads of 64, 24 layers). Only the encoder is read.
/// </summary>
public sealed record T5EncoderConfig
{
    public const string ModelType = "t5";
    public static readonly string[] SupportedClasses = ["T5EncoderModel", "T5ForConditionalGeneration", "T5Model"];

    public required int VocabSize { get; init; }
    public required int DModel { get; init; }
    /// <summary>d_kv: the width of one head (heads · d_kv need not equal d_model).</summary>
    public required int DKv { get; init; }
    public required int DFf { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public int RelativeBuckets { get; init; } = 32;
    public int RelativeMaxDistance { get; init; } = 128;
    public float LayerNormEps { get; init; } = 1e-6f;
    /// <summary>config.json's feed_forward_proj ("gated-gelu" for T5 v1.1, "relu" for the original T5).</summary>
    public string FeedForwardProj { get; init; } = "relu";
    public int PadTokenId { get; init; } = 0;
    public int EosTokenId { get; init; } = 1;

    /// <summary>Stable Diffusion 3.5's text_encoder_3/config.json: T5 v1.1 XXL's encoder.</summary>
    public static T5EncoderConfig StableDiffusion3Xxl => new()
    {
        VocabSize = 32128, DModel = 4096, DKv = 64, DFf = 10240, Layers = 24, Heads = 64, FeedForwardProj = "gated-gelu",
    };

    public int InnerDim => Heads * DKv;
    public T5FeedForward FeedForward => FeedForwardOf(FeedForwardProj, out _)
        ?? throw new QzoException($"feed_forward_proj '{FeedForwardProj}' is not supported");
    public bool IsGated => FeedForward is T5FeedForward.GatedGeluTanh or T5FeedForward.GatedSilu;

    /// <summary>
    /// T5Config's reading of feed_forward_proj: "[gated-]ACT", where the gated form multiplies act(wi_0·x) by wi_1·x and
    /// "gated-gelu" means gelu_new (tanh GELU) for backward compatibility. <paramref name="denseActFn"/> is the ACT2FN name.
    /// </summary>
    static T5FeedForward? FeedForwardOf(string proj, out string denseActFn)
    {
        var parts = proj.Split('-');
        denseActFn = proj == "gated-gelu" ? "gelu_new" : parts[^1];
        bool gated = parts.Length == 2 && parts[0] == "gated";
        if (parts.Length > 2 || (parts.Length == 2 && !gated)) return null;
        return (gated, denseActFn) switch
        {
            (true, "gelu_new" or "gelu_pytorch_tanh") => T5FeedForward.GatedGeluTanh,
            (true, "silu" or "swish") => T5FeedForward.GatedSilu,
            (false, "relu") => T5FeedForward.Relu,
            (false, "gelu") => T5FeedForward.GeluErf,
            (false, "gelu_new" or "gelu_pytorch_tanh") => T5FeedForward.GeluTanh,
            (false, "silu" or "swish") => T5FeedForward.Silu,
            _ => null,
        };
    }

    public static T5EncoderConfig Load(string path) => Parse(JsonConfigReader.Load(path));

    /// <summary>Structural keys are required; the rest default to T5Config's defaults, as transformers fills them.</summary>
    public static T5EncoderConfig Parse(JsonConfigReader c)
    {
        string modelType = c.String("model_type") ?? throw c.Missing("model_type");
        if (modelType != ModelType)
            throw new QzoException($"{c.SourceFile}: model_type '{modelType}' is not a T5 model (expected '{ModelType}')");
        var classes = (c.Json["architectures"] as JsonArray)?.Select(a => a?.GetValue<string>()).ToList() ?? [];
        if (classes.Any(n => !SupportedClasses.Contains(n)))
            throw new QzoException($"{c.SourceFile}: architecture {string.Join(", ", classes)} is not supported " +
                                   $"(supported: {string.Join(", ", SupportedClasses)})");
        var config = new T5EncoderConfig
        {
            VocabSize = c.RequireInt("vocab_size"),
            DModel = c.RequireInt("d_model"),
            DKv = c.RequireInt("d_kv"),
            DFf = c.RequireInt("d_ff"),
            Layers = c.RequireInt("num_layers"),
            Heads = c.RequireInt("num_heads"),
            RelativeBuckets = c.Int("relative_attention_num_buckets", 32),
            RelativeMaxDistance = c.Int("relative_attention_max_distance", 128),
            LayerNormEps = (float)c.Double("layer_norm_epsilon", 1e-6),
            FeedForwardProj = c.String("feed_forward_proj") ?? "relu",
            PadTokenId = c.Int("pad_token_id", 0),
            EosTokenId = c.Int("eos_token_id", 1),
        };
        foreach (var (key, value) in new[] { ("vocab_size", config.VocabSize), ("d_model", config.DModel), ("d_kv", config.DKv),
                     ("d_ff", config.DFf), ("num_layers", config.Layers), ("num_heads", config.Heads),
                     ("relative_attention_num_buckets", config.RelativeBuckets),
                     ("relative_attention_max_distance", config.RelativeMaxDistance) })
            if (value <= 0) throw new QzoException($"{c.SourceFile}: '{key}' must be positive, got {value}");
        if (config.RelativeBuckets < 4 || config.RelativeMaxDistance <= config.RelativeBuckets / 2 / 2)
            throw new QzoException(
                $"{c.SourceFile}: relative_attention_num_buckets {config.RelativeBuckets} and relative_attention_max_distance " +
                $"{config.RelativeMaxDistance} make no bidirectional bucketing (at least 4 buckets; max_distance above buckets/4)");
        var kind = FeedForwardOf(config.FeedForwardProj, out string denseActFn)
            ?? throw new QzoException($"{c.SourceFile}: 'feed_forward_proj' '{config.FeedForwardProj}' is not supported " +
                                      "(supported: gated-gelu, gated-gelu_new, gated-silu, relu, gelu, gelu_new, silu)");
        // T5Config saves the values it derives; a file whose saved values disagree with feed_forward_proj is ambiguous.
        if (c.String("dense_act_fn") is { } saved && saved != denseActFn)
            throw new QzoException($"{c.SourceFile}: 'dense_act_fn' '{saved}' disagrees with feed_forward_proj " +
                                   $"'{config.FeedForwardProj}' (which means {denseActFn})");
        bool gated = kind is T5FeedForward.GatedGeluTanh or T5FeedForward.GatedSilu;
        if (c.Has("is_gated_act") && c.Bool("is_gated_act", gated) != gated)
            throw new QzoException($"{c.SourceFile}: 'is_gated_act' disagrees with feed_forward_proj '{config.FeedForwardProj}'");
        return config;
    }
}
