using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.Encoders.Clip;
using Qzo.Encoders.T5;
using Qzo.IO;
using Qzo.Models;

namespace Qzo.Diffusion.Quantization;

/// <summary>
/// A model class of a Stable Diffusion 3 pipeline as diffusers or transformers saves it, and which of its tensors
/// bitsandbytes 4-bit quantization turns into Linear4bit. Both libraries replace every nn.Linear (a 2-D ".weight";
/// embeddings and convolutions never) except the modules they keep: diffusers keeps llm_int8_skip_modules and the
/// class's _keep_in_fp32_modules (none for SD3Transformer2DModel and AutoencoderKL); transformers also keeps the
/// module of the last parameter and tied or output embeddings (get_keys_to_not_convert), which for
/// CLIPTextModelWithProjection is text_projection, and T5's _keep_in_fp32_modules ["wo"] (docs/formats.md §6).
/// </summary>
/// <param name="Library">"diffusers" or "transformers", as model_index.json names it</param>
/// <param name="WeightStem">the weight files' stem: diffusion_pytorch_model (diffusers) or model (transformers)</param>
/// <param name="MaxShardBytes">save_pretrained's default max_shard_size: diffusers "10GB", transformers 5 "50GB"</param>
/// <param name="Embeddings">short names of the 2-D weights that are nn.Embedding, not nn.Linear</param>
/// <param name="KeptModules">module names left unquantized, matched as replace_with_bnb_linear matches them</param>
public sealed record ComponentClass(string Name, string Library, string WeightStem, long MaxShardBytes, string[] Embeddings,
                                    string[] KeptModules)
{
    const long DiffusersShard = 10_000_000_000, TransformersShard = 50_000_000_000;

    public static readonly ComponentClass Sd3Transformer =
        new(Sd3TransformerConfig.ClassName, "diffusers", "diffusion_pytorch_model", DiffusersShard, [], []);
    public static readonly ComponentClass Vae = new(VaeConfig.ClassName, "diffusers", "diffusion_pytorch_model", DiffusersShard, [], []);
    public static readonly ComponentClass ClipWithProjection = new(ClipTextConfig.WithProjectionClass, "transformers", "model",
        TransformersShard, ["token_embedding", "position_embedding"], ["text_projection"]);
    public static readonly ComponentClass ClipPlain = ClipWithProjection with { Name = ClipTextConfig.PlainClass, KeptModules = [] };
    public static readonly ComponentClass T5Encoder = new("T5EncoderModel", "transformers", "model", TransformersShard,
        ["shared", "embed_tokens", "relative_attention_bias"], ["wo"]);

    public static IReadOnlyList<ComponentClass> All { get; } = [Sd3Transformer, Vae, ClipWithProjection, ClipPlain, T5Encoder];

    public bool IsDiffusers => Library == "diffusers";

    /// <summary>The module name of a linear's weight tensor, or null when the tensor is not an nn.Linear weight.</summary>
    public string? LinearOf(TensorInfo tensor)
    {
        if (!tensor.Name.EndsWith(".weight", StringComparison.Ordinal) || tensor.Shape.Length != 2) return null;
        string module = tensor.Name[..^".weight".Length];
        return Embeddings.Contains(ShortName(module)) ? null : module;
    }

    /// <summary>
    /// Whether replace_with_bnb_linear leaves the module an nn.Linear: its own name is listed, or its full name is,
    /// or a listed name followed by "." occurs in it.
    /// </summary>
    public bool Keeps(string module) =>
        KeptModules.Any(k => ShortName(module) == k || module == k || module.Contains(k + ".", StringComparison.Ordinal));

    static string ShortName(string module) => module[(module.LastIndexOf('.') + 1)..];

    /// <summary>
    /// The class of a component folder from its config.json (diffusers' "_class_name", or transformers'
    /// "model_type" and "architectures"); null when there is no config.json or it is not a text encoder's or a diffusers
    /// model's (a language model); refused when its _class_name is a diffusers model Qzo does not read.
    /// </summary>
    public static ComponentClass? Of(string folder)
    {
        string path = Path.Combine(folder, "config.json");
        if (!File.Exists(path)) return null;
        var config = JsonConfigReader.Load(path);
        if (config.Json["_class_name"] is not null)
        {
            string name = config.String("_class_name")!;
            return All.FirstOrDefault(c => c.IsDiffusers && c.Name == name) ?? throw new QzoException(
                $"{path}: _class_name '{name}' is not a model Qzo quantizes (supported: {Sd3Transformer.Name}, {Vae.Name})");
        }
        string? architecture = (config.Json["architectures"] as System.Text.Json.Nodes.JsonArray)?.FirstOrDefault()?.GetValue<string>();
        return config.String("model_type") switch
        {
            ClipTextConfig.ModelType => architecture == ClipTextConfig.PlainClass ? ClipPlain : ClipWithProjection,
            T5EncoderConfig.ModelType when architecture is null or "T5EncoderModel" => T5Encoder,
            _ => null,
        };
    }
}
