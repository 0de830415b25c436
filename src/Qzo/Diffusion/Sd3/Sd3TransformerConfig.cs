using System.Text.Json.Nodes;
using Qzo.Models;

namespace Qzo.Diffusion.Sd3;

/// <summary>
/// diffusers' SD3Transformer2DModel config.json (transformer/config.json of an SD3/SD3.5 pipeline). The blocks run at
/// width <see cref="InnerDim"/> = heads · head_dim; the context stream too, so caption_projection_dim must equal it.
/// Block i is a dual-attention block (SD3.5's attn2) when listed in dual_attention_layers, and the last block is
/// "context pre-only": it reads the text tokens but returns none.
/// </summary>
public sealed record Sd3TransformerConfig
{
    public const string ClassName = "SD3Transformer2DModel";
    /// <summary>Every LayerNorm and q/k RMSNorm of the model (AdaLayerNormZero, norm2, norm_out, Attention(eps=1e-6)).</summary>
    public const float NormEps = 1e-6f;
    /// <summary>The width of the sinusoidal timestep embedding (CombinedTimestepTextProjEmbeddings' Timesteps(256)).</summary>
    public const int TimestepChannels = 256;

    public required int SampleSize { get; init; }
    public required int PatchSize { get; init; }
    public required int InChannels { get; init; }
    public required int OutChannels { get; init; }
    public required int Layers { get; init; }
    public required int HeadDim { get; init; }
    public required int Heads { get; init; }
    public required int JointAttentionDim { get; init; }
    public required int CaptionProjectionDim { get; init; }
    public required int PooledProjectionDim { get; init; }
    /// <summary>The side M of the stored M×M positional table; latents are centre-cropped out of it.</summary>
    public required int PosEmbedMaxSize { get; init; }
    /// <summary>qk_norm "rms_norm" (SD3.5): per-head RMSNorms on q, k and the text stream's q, k; false for null (SD3).</summary>
    public required bool QkRmsNorm { get; init; }
    public required IReadOnlyList<int> DualAttentionLayers { get; init; }

    public int InnerDim => Heads * HeadDim;
    /// <summary>PatchEmbed's base_size: positions in the table are i / (M / base).</summary>
    public int PositionBaseSize => SampleSize / PatchSize;
    /// <summary>proj_out's width: patch_size² · out_channels, channel (py·p + px)·out + c.</summary>
    public int PatchOutputWidth => PatchSize * PatchSize * OutChannels;
    public bool IsDual(int block) => DualAttentionLayers.Contains(block);
    public bool IsContextPreOnly(int block) => block == Layers - 1;

    public static Sd3TransformerConfig Load(string path) => Parse(JsonConfigReader.Load(path));

    /// <summary>
    /// Reads the keys diffusers' save_pretrained writes. qk_norm and dual_attention_layers may be absent (configs saved
    /// before diffusers had them, e.g. SD3.5 Large's): then null and (), diffusers' defaults.
    /// </summary>
    public static Sd3TransformerConfig Parse(JsonConfigReader c)
    {
        string? className = c.String("_class_name");
        if (className is not null && className != ClassName)
            throw new QzoException($"{c.SourceFile}: _class_name '{className}' is not {ClassName}");
        string? qkNorm = c.String("qk_norm");
        if (qkNorm is not null and not "rms_norm")
            throw new QzoException($"{c.SourceFile}: qk_norm '{qkNorm}' is not supported (supported: \"rms_norm\", null)");
        if (!c.Has("pos_embed_max_size"))
            throw new QzoException($"{c.SourceFile}: pos_embed_max_size is missing or null; only SD3's stored, cropped positional table " +
                                   "is supported");
        int inChannels = c.RequireInt("in_channels");
        var config = new Sd3TransformerConfig
        {
            SampleSize = c.RequireInt("sample_size"),
            PatchSize = c.RequireInt("patch_size"),
            InChannels = inChannels,
            OutChannels = c.Int("out_channels", inChannels), // diffusers: out_channels or in_channels
            Layers = c.RequireInt("num_layers"),
            HeadDim = c.RequireInt("attention_head_dim"),
            Heads = c.RequireInt("num_attention_heads"),
            JointAttentionDim = c.RequireInt("joint_attention_dim"),
            CaptionProjectionDim = c.RequireInt("caption_projection_dim"),
            PooledProjectionDim = c.RequireInt("pooled_projection_dim"),
            PosEmbedMaxSize = c.RequireInt("pos_embed_max_size"),
            QkRmsNorm = qkNorm is not null,
            DualAttentionLayers = c.IntList("dual_attention_layers"),
        };
        config.Validate(c.SourceFile);
        return config;
    }

    void Validate(string source)
    {
        foreach (var (key, value) in new[] { ("sample_size", SampleSize), ("patch_size", PatchSize), ("in_channels", InChannels),
                                             ("out_channels", OutChannels), ("num_layers", Layers), ("attention_head_dim", HeadDim),
                                             ("num_attention_heads", Heads), ("joint_attention_dim", JointAttentionDim),
                                             ("caption_projection_dim", CaptionProjectionDim),
                                             ("pooled_projection_dim", PooledProjectionDim), ("pos_embed_max_size", PosEmbedMaxSize) })
            if (value <= 0) throw new QzoException($"{source}: '{key}' must be positive, got {value}");
        if (CaptionProjectionDim != InnerDim)
            throw new QzoException($"{source}: caption_projection_dim ({CaptionProjectionDim}) must equal num_attention_heads · " +
                                   $"attention_head_dim ({InnerDim}): the joint blocks run the text tokens at that width");
        if (InnerDim % 4 != 0)
            throw new QzoException($"{source}: the inner width {InnerDim} must be a multiple of 4 (the 2-D sin-cos positional table)");
        if (SampleSize < PatchSize)
            throw new QzoException($"{source}: sample_size ({SampleSize}) is smaller than patch_size ({PatchSize})");
        foreach (int layer in DualAttentionLayers)
            if (layer < 0 || layer >= Layers)
                throw new QzoException($"{source}: dual_attention_layers names block {layer}, but num_layers is {Layers}");
    }

    /// <summary>config.json as diffusers' save_pretrained writes it (keys sorted), for synthesized models.</summary>
    public JsonObject ToJson() => new(new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
    {
        ["_class_name"] = ClassName,
        ["_diffusers_version"] = "0.39.0",
        ["attention_head_dim"] = HeadDim,
        ["caption_projection_dim"] = CaptionProjectionDim,
        ["dual_attention_layers"] = new JsonArray(DualAttentionLayers.Select(l => (JsonNode?)l).ToArray()),
        ["in_channels"] = InChannels,
        ["joint_attention_dim"] = JointAttentionDim,
        ["num_attention_heads"] = Heads,
        ["num_layers"] = Layers,
        ["out_channels"] = OutChannels,
        ["patch_size"] = PatchSize,
        ["pooled_projection_dim"] = PooledProjectionDim,
        ["pos_embed_max_size"] = PosEmbedMaxSize,
        ["qk_norm"] = QkRmsNorm ? "rms_norm" : null,
        ["sample_size"] = SampleSize,
    });
}
