using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Hub;

/// <summary>
/// The files of a model repository that Qzo reads, chosen from a file list (the Hub's, or a snapshot's): per model
/// folder (the root of a checkpoint; each component folder model_index.json names in a diffusers pipeline) its configs
/// and tokenizer files, and its safetensors weights: model.safetensors (diffusion_pytorch_model.safetensors), else the
/// shards its .safetensors.index.json names, else every other *.safetensors there. PyTorch .bin, ONNX, GGUF, variants
/// such as *.fp16.safetensors and single-file extras at a pipeline's root are left on the Hub.
/// </summary>
static class ModelFiles
{
    public const string PipelineIndex = "model_index.json";
    static readonly string[] WeightStems = ["model", "diffusion_pytorch_model"];
    static readonly string[] Metadata =
    [
        "config.json", "generation_config.json", "quantize_config.json", "quant_config.json", "scheduler_config.json",
        "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "spiece.model", "special_tokens_map.json", "added_tokens.json",
        "vocab.json", "merges.txt", "chat_template.jinja", "chat_template.json",
    ];
    /// <summary>A checkpoint needs one of these (or all of them known absent) to be usable from the cache.</summary>
    public static readonly string[] Tokenizers = ["tokenizer.json", "tokenizer.model", "vocab.json"];

    /// <summary>The model folders: "" for a checkpoint, the component folders of a pipeline (read from its model_index.json).</summary>
    public static IReadOnlyList<string> Folders(IReadOnlySet<string> files, Func<string, JsonNode?> readJson)
    {
        if (!files.Contains(PipelineIndex)) return [""];
        var index = readJson(PipelineIndex) as JsonObject ?? throw new QzoException($"{PipelineIndex}: not a JSON object");
        return index.Where(kv => !kv.Key.StartsWith('_') && kv.Value is JsonArray { Count: 2 } pair && pair[0] is not null
                                 && pair[1] is not null)
            .Select(kv => kv.Key).ToList();
    }

    /// <summary>Configs, tokenizer files and weight indexes: what to fetch before the weights.</summary>
    public static IEnumerable<string> Small(IReadOnlySet<string> files, IReadOnlyList<string> folders) =>
        folders.SelectMany(folder => Metadata.Select(name => Join(folder, name))
                .Concat(WeightStems.Select(stem => Join(folder, stem + ".safetensors.index.json"))))
            .Where(files.Contains).Prepend(PipelineIndex).Where(files.Contains).Distinct();

    /// <summary>The weight files of one folder; an index is read from the file <paramref name="localPath"/> gives.</summary>
    public static IEnumerable<string> Weights(IReadOnlySet<string> files, string folder, Func<string, string> localPath)
    {
        foreach (var stem in WeightStems)
        {
            string single = Join(folder, stem + ".safetensors"), index = Join(folder, stem + ".safetensors.index.json");
            if (files.Contains(single)) return [single];
            if (files.Contains(index))
                return ShardedIndex.ReadWeightMap(localPath(index)).Values.Distinct().Order(StringComparer.Ordinal)
                    .Select(shard => Join(folder, shard));
        }
        string prefix = folder.Length == 0 ? "" : folder + "/";
        return files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal) && f.EndsWith(".safetensors", StringComparison.Ordinal)
                                && !f[prefix.Length..].Contains('/') && Path.GetFileNameWithoutExtension(f).Split('.').Length == 1)
            .Order(StringComparer.Ordinal);
    }

    /// <summary>Whether a folder holds a model with weights (a scheduler or tokenizer folder of a pipeline does not).</summary>
    public static bool HasWeights(IReadOnlySet<string> files, string folder) => files.Contains(Join(folder, "config.json"));

    public static bool AnyIn(IReadOnlySet<string> files, string folder) =>
        folder.Length == 0 || files.Any(f => f.StartsWith(folder + "/", StringComparison.Ordinal));

    public static string Join(string folder, string name) => folder.Length == 0 ? name : folder + "/" + name;
}
