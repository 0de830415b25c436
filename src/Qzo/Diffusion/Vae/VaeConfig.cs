using System.Text.Json.Nodes;
using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// A diffusers AutoencoderKL's vae/config.json. Absent keys take diffusers' defaults (AutoencoderKL.__init__), as
/// from_pretrained does; the checkpoint's tensor shapes then catch a config that does not describe them.
/// </summary>
public sealed record VaeConfig
{
    public const string ClassName = "AutoencoderKL";

    public int InChannels { get; init; } = 3;
    public int OutChannels { get; init; } = 3;
    /// <summary>Channels of each resolution level, finest first; the encoder halves the resolution between levels.</summary>
    public int[] BlockOutChannels { get; init; } = [64];
    /// <summary>Resnets per encoder block; decoder blocks have one more.</summary>
    public int LayersPerBlock { get; init; } = 1;
    public int LatentChannels { get; init; } = 4;
    public int NormGroups { get; init; } = 32;
    public bool MidBlockAttention { get; init; } = true;
    public bool UseQuantConv { get; init; } = true;
    public bool UsePostQuantConv { get; init; } = true;
    public double ScalingFactor { get; init; } = 0.18215;
    /// <summary>Subtracted before scaling (SD3: 0.0609); absent in SD1/SDXL VAEs.</summary>
    public double? ShiftFactor { get; init; }
    /// <summary>Whether pipelines run this VAE in fp32 even when the rest is half precision (recorded, not acted on here).</summary>
    public bool ForceUpcast { get; init; } = true;

    public int Levels => BlockOutChannels.Length;
    /// <summary>Image pixels per latent pixel along each axis (8 for SD's four levels).</summary>
    public int DownscaleFactor => 1 << (Levels - 1);

    /// <summary>diffusers' GroupNorm eps in every VAE norm (Encoder/Decoder pass resnet_eps = 1e-6 everywhere).</summary>
    public const float NormEps = 1e-6f;

    public static VaeConfig Load(string path) => Parse(JsonConfigReader.Load(path));

    public static VaeConfig Parse(JsonConfigReader c)
    {
        string file = c.SourceFile;
        if (c.String("_class_name") is { } className && className != ClassName)
            throw new QzoException($"{file}: _class_name '{className}' is not supported (supported: {ClassName})");
        string act = c.String("act_fn") ?? "silu";
        if (act is not ("silu" or "swish")) throw new QzoException($"{file}: act_fn '{act}' is not supported (supported: silu)");

        var defaults = new VaeConfig();
        var config = new VaeConfig
        {
            InChannels = c.Int("in_channels", defaults.InChannels),
            OutChannels = c.Int("out_channels", defaults.OutChannels),
            BlockOutChannels = c.Has("block_out_channels") ? c.IntList("block_out_channels") : defaults.BlockOutChannels,
            LayersPerBlock = c.Int("layers_per_block", defaults.LayersPerBlock),
            LatentChannels = c.Int("latent_channels", defaults.LatentChannels),
            NormGroups = c.Int("norm_num_groups", defaults.NormGroups),
            MidBlockAttention = c.Bool("mid_block_add_attention", defaults.MidBlockAttention),
            UseQuantConv = c.Bool("use_quant_conv", defaults.UseQuantConv),
            UsePostQuantConv = c.Bool("use_post_quant_conv", defaults.UsePostQuantConv),
            ScalingFactor = c.Double("scaling_factor", defaults.ScalingFactor),
            ShiftFactor = c.Has("shift_factor") ? c.Double("shift_factor", 0) : null,
            ForceUpcast = c.Bool("force_upcast", defaults.ForceUpcast),
        };
        CheckBlockTypes(c, "down_block_types", "DownEncoderBlock2D", config.Levels);
        CheckBlockTypes(c, "up_block_types", "UpDecoderBlock2D", config.Levels);
        config.Validate(file);
        return config;
    }

    /// <summary>Every block must be the plain resnet kind; diffusers strips a "UNetRes" prefix before matching.</summary>
    static void CheckBlockTypes(JsonConfigReader c, string key, string supported, int levels)
    {
        string[] types = c.Has(key) ? StringList(c, key) : [supported];
        foreach (var type in types)
        {
            string name = type.StartsWith("UNetRes", StringComparison.Ordinal) ? type[7..] : type;
            if (name != supported)
                throw new QzoException($"{c.SourceFile}: {key} entry '{type}' is not supported (supported: {supported})");
        }
        if (types.Length != levels)
            throw new QzoException($"{c.SourceFile}: {key} has {types.Length} entries but block_out_channels has {levels}");
    }

    static string[] StringList(JsonConfigReader c, string key) =>
        c.Json[key] is JsonArray array && array.All(n => n?.GetValueKind() == System.Text.Json.JsonValueKind.String)
            ? array.Select(n => n!.GetValue<string>()).ToArray()
            : throw c.Invalid(key, "a list of strings");

    void Validate(string file)
    {
        void Positive(int value, string key)
        {
            if (value <= 0) throw new QzoException($"{file}: '{key}' must be positive, got {value}");
        }
        Positive(InChannels, "in_channels");
        Positive(OutChannels, "out_channels");
        Positive(LayersPerBlock, "layers_per_block");
        Positive(LatentChannels, "latent_channels");
        Positive(NormGroups, "norm_num_groups");
        if (Levels == 0) throw new QzoException($"{file}: 'block_out_channels' must not be empty");
        foreach (int channels in BlockOutChannels)
        {
            Positive(channels, "block_out_channels");
            if (channels % NormGroups != 0)
                throw new QzoException($"{file}: block_out_channels entry {channels} is not a multiple of norm_num_groups ({NormGroups})");
        }
        if (!double.IsFinite(ScalingFactor) || ScalingFactor == 0)
            throw new QzoException($"{file}: 'scaling_factor' must be a nonzero number, got {ScalingFactor}");
    }

    /// <summary>The activation every resnet and output block applies (act_fn: silu, or its old name swish).</summary>
    public static Activation Activation => Activation.Silu;

    /// <summary>config.json as diffusers' save_pretrained writes it (keys sorted), for synthesized folders.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["_class_name"] = ClassName,
            ["_diffusers_version"] = "0.39.0",
            ["act_fn"] = "silu",
            ["block_out_channels"] = new JsonArray(BlockOutChannels.Select(c => (JsonNode)c).ToArray()),
            ["down_block_types"] = new JsonArray(BlockOutChannels.Select(_ => (JsonNode)"DownEncoderBlock2D").ToArray()),
            ["force_upcast"] = ForceUpcast,
            ["in_channels"] = InChannels,
            ["latent_channels"] = LatentChannels,
            ["latents_mean"] = null,
            ["latents_std"] = null,
            ["layers_per_block"] = LayersPerBlock,
            ["mid_block_add_attention"] = MidBlockAttention,
            ["norm_num_groups"] = NormGroups,
            ["out_channels"] = OutChannels,
            ["sample_size"] = 32 * DownscaleFactor,
            ["scaling_factor"] = ScalingFactor,
            ["shift_factor"] = ShiftFactor,
            ["up_block_types"] = new JsonArray(BlockOutChannels.Select(_ => (JsonNode)"UpDecoderBlock2D").ToArray()),
            ["use_post_quant_conv"] = UsePostQuantConv,
            ["use_quant_conv"] = UseQuantConv,
        };
        return json;
    }
}
