using System.Text.Json.Nodes;
using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Encoders.Clip;

/// <summary>
/// A CLIP text tower's config.json (transformers' CLIPTextConfig, model_type "clip_text_model"): CLIP-L/14 and OpenCLIP
/// bigG/14 as Stable Diffusion 3 ships them in text_encoder/ and text_encoder_2/. <see cref="HasProjection"/> is true for
/// CLIPTextModelWithProjection (text_projection, no bias, to <see cref="ProjectionDim"/>), false for CLIPTextModel.
/// </summary>
public sealed record ClipTextConfig
{
    public const string ModelType = "clip_text_model";
    public const string WithProjectionClass = "CLIPTextModelWithProjection";
    public const string PlainClass = "CLIPTextModel";
    /// <summary>CLIP's &lt;|endoftext|&gt;, the largest id of its vocabulary (see <see cref="ClipPooling"/>).</summary>
    public const int EndOfTextId = 49407;

    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int Heads { get; init; }
    public required int Layers { get; init; }
    public int MaxPositions { get; init; } = 77;
    public int ProjectionDim { get; init; } = 512;
    public bool HasProjection { get; init; } = true;
    /// <summary>config.json's hidden_act, as transformers' ACT2FN names it.</summary>
    public string HiddenAct { get; init; } = "quick_gelu";
    public float LayerNormEps { get; init; } = 1e-5f;
    /// <summary>The Hub's CLIP configs say 2 (not CLIP's real end-of-text id); it only matters for ids without 49407.</summary>
    public int EosTokenId { get; init; } = EndOfTextId;
    public int BosTokenId { get; init; } = 49406;
    public int PadTokenId { get; init; } = 1;

    /// <summary>Stable Diffusion 3.5's text_encoder/config.json: CLIP-L/14.</summary>
    public static ClipTextConfig StableDiffusion3L => new()
    {
        VocabSize = 49408, HiddenSize = 768, IntermediateSize = 3072, Heads = 12, Layers = 12, ProjectionDim = 768,
        HiddenAct = "quick_gelu", EosTokenId = 2, BosTokenId = 0, PadTokenId = 1,
    };

    /// <summary>Stable Diffusion 3.5's text_encoder_2/config.json: OpenCLIP bigG/14.</summary>
    public static ClipTextConfig StableDiffusion3G => new()
    {
        VocabSize = 49408, HiddenSize = 1280, IntermediateSize = 5120, Heads = 20, Layers = 32, ProjectionDim = 1280,
        HiddenAct = "gelu", EosTokenId = 2, BosTokenId = 0, PadTokenId = 1,
    };

    public int HeadDim => HiddenSize / Heads;
    public Activation Activation => ActivationOf(HiddenAct) ?? throw new QzoException($"hidden_act '{HiddenAct}' is not supported");

    /// <summary>transformers' ACT2FN entries a CLIP MLP can name, as the backend's activations.</summary>
    static Activation? ActivationOf(string name) => name switch
    {
        "quick_gelu" => Activation.QuickGelu,
        "gelu" => Activation.GeluErf,
        "gelu_new" or "gelu_pytorch_tanh" => Activation.GeluTanh,
        "silu" or "swish" => Activation.Silu,
        _ => null,
    };

    public static ClipTextConfig Load(string path) => Parse(JsonConfigReader.Load(path));

    /// <summary>
    /// Structural keys are required (a config.json saved by transformers always has them); the rest default to
    /// CLIPTextConfig's defaults, as transformers fills them.
    /// </summary>
    public static ClipTextConfig Parse(JsonConfigReader c)
    {
        string modelType = c.String("model_type") ?? throw c.Missing("model_type");
        if (modelType != ModelType)
            throw new QzoException($"{c.SourceFile}: model_type '{modelType}' is not a CLIP text model (expected '{ModelType}')");
        var classes = (c.Json["architectures"] as JsonArray)?.Select(a => a?.GetValue<string>()).ToList() ?? [];
        if (classes.Any(n => n is not (WithProjectionClass or PlainClass)))
            throw new QzoException(
                $"{c.SourceFile}: architecture {string.Join(", ", classes)} is not supported " +
                $"(supported: {WithProjectionClass}, {PlainClass})");
        var config = new ClipTextConfig
        {
            VocabSize = c.RequireInt("vocab_size"),
            HiddenSize = c.RequireInt("hidden_size"),
            IntermediateSize = c.RequireInt("intermediate_size"),
            Heads = c.RequireInt("num_attention_heads"),
            Layers = c.RequireInt("num_hidden_layers"),
            MaxPositions = c.Int("max_position_embeddings", 77),
            ProjectionDim = c.Int("projection_dim", 512),
            HasProjection = classes.Count == 0 || classes.Contains(WithProjectionClass),
            HiddenAct = c.String("hidden_act") ?? "quick_gelu",
            LayerNormEps = (float)c.Double("layer_norm_eps", 1e-5),
            EosTokenId = c.Int("eos_token_id", EndOfTextId),
            BosTokenId = c.Int("bos_token_id", 49406),
            PadTokenId = c.Int("pad_token_id", 1),
        };
        foreach (var (key, value) in new[] { ("vocab_size", config.VocabSize), ("hidden_size", config.HiddenSize),
                     ("intermediate_size", config.IntermediateSize), ("num_attention_heads", config.Heads),
                     ("num_hidden_layers", config.Layers), ("max_position_embeddings", config.MaxPositions),
                     ("projection_dim", config.ProjectionDim) })
            if (value <= 0) throw new QzoException($"{c.SourceFile}: '{key}' must be positive, got {value}");
        if (config.HiddenSize % config.Heads != 0)
            throw new QzoException(
                $"{c.SourceFile}: 'hidden_size' ({config.HiddenSize}) must be a multiple of 'num_attention_heads' ({config.Heads})");
        if (ActivationOf(config.HiddenAct) is null)
            throw new QzoException(
                $"{c.SourceFile}: 'hidden_act' '{config.HiddenAct}' is not supported (supported: quick_gelu, gelu, gelu_new, " +
                "gelu_pytorch_tanh, silu)");
        return config;
    }
}
