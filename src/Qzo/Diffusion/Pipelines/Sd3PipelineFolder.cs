using System.Text.Json.Nodes;

namespace Qzo.Diffusion.Pipelines;

/// <summary>
/// A Stable Diffusion 3 / 3.5 pipeline folder as diffusers saves it and the Hub publishes it: model_index.json naming
/// StableDiffusion3Pipeline and its components, each in its own subfolder. The T5 encoder may be absent
/// (`"text_encoder_3": [null, null]`, as SD3 allows); every other component is required.
/// </summary>
public sealed record Sd3PipelineFolder(string Root, string Transformer, string Vae, string Scheduler, string TextEncoder,
                                       string Tokenizer, string TextEncoder2, string Tokenizer2, string? TextEncoder3,
                                       string? Tokenizer3)
{
    public const string IndexFileName = "model_index.json";

    /// <summary>Components by their model_index.json key and the class diffusers/transformers gives each.</summary>
    static readonly (string Key, string[] Classes, bool Optional)[] Components =
    [
        ("transformer", ["SD3Transformer2DModel"], false),
        ("vae", ["AutoencoderKL"], false),
        ("scheduler", ["FlowMatchEulerDiscreteScheduler"], false),
        ("text_encoder", ["CLIPTextModelWithProjection"], false),
        ("tokenizer", ["CLIPTokenizer", "CLIPTokenizerFast"], false),
        ("text_encoder_2", ["CLIPTextModelWithProjection"], false),
        ("tokenizer_2", ["CLIPTokenizer", "CLIPTokenizerFast"], false),
        ("text_encoder_3", ["T5EncoderModel"], true),
        ("tokenizer_3", ["T5TokenizerFast", "T5Tokenizer"], true),
    ];

    public static bool IsPipeline(string folder) => File.Exists(Path.Combine(folder, IndexFileName));

    public static Sd3PipelineFolder Open(string root)
    {
        string index = Path.Combine(root, IndexFileName);
        if (!Directory.Exists(root)) throw new QzoException($"{root}: pipeline folder not found");
        if (!File.Exists(index)) throw new QzoException($"{root}: no {IndexFileName} (not a diffusers pipeline folder)");
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(index))?.AsObject() ?? throw new QzoException($"{index}: empty"); }
        catch (System.Text.Json.JsonException e) { throw new QzoException($"{index}: not valid JSON ({e.Message})"); }
        string pipeline = json["_class_name"]?.GetValue<string>() ?? throw new QzoException($"{index}: no '_class_name'");
        if (pipeline != "StableDiffusion3Pipeline")
            throw new QzoException($"{index}: pipeline '{pipeline}' is not supported (StableDiffusion3Pipeline)");

        var paths = new Dictionary<string, string?>();
        foreach (var (key, classes, optional) in Components)
        {
            string? type = ClassOf(json, key, index);
            if (type is null)
            {
                if (!optional) throw new QzoException($"{index}: the component '{key}' is missing");
                paths[key] = null;
                continue;
            }
            if (!classes.Contains(type))
                throw new QzoException($"{index}: '{key}' is a {type}; Qzo reads {string.Join(" or ", classes)}");
            string folder = Path.Combine(root, key);
            if (!Directory.Exists(folder)) throw new QzoException($"{index}: the folder of '{key}' is missing: {folder}");
            paths[key] = folder;
        }
        if (paths["text_encoder_3"] is null != paths["tokenizer_3"] is null)
            throw new QzoException($"{index}: text_encoder_3 and tokenizer_3 must be both present or both null");
        return new Sd3PipelineFolder(root, paths["transformer"]!, paths["vae"]!, paths["scheduler"]!, paths["text_encoder"]!,
            paths["tokenizer"]!, paths["text_encoder_2"]!, paths["tokenizer_2"]!, paths["text_encoder_3"], paths["tokenizer_3"]);
    }

    /// <summary>The class of a component entry ["library", "Class"], or null for [null, null] or an absent key.</summary>
    static string? ClassOf(JsonObject json, string key, string index)
    {
        if (json[key] is not JsonArray { Count: 2 } entry)
            return json.ContainsKey(key) && json[key] is not null
                ? throw new QzoException($"{index}: '{key}' must be [library, class] or [null, null]")
                : null;
        return entry[1]?.GetValue<string>();
    }
}
