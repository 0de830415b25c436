using System.Text.Json.Nodes;
using Qzo.Models.Architectures;

namespace Qzo.Models;

/// <summary>
/// A checkpoint's config.json, validated: what every architecture has. <see cref="Parse"/> picks the
/// family from `model_type` in <see cref="ArchitectureRegistry"/> (and checks `architectures` agrees); unknown ones are refused by name.
/// </summary>
public abstract record ModelConfig
{
    public required IArchitecture Architecture { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int Layers { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public int MaxPositions { get; init; } = 2048;
    public int? BosTokenId { get; init; }
    public int[] EosTokenIds { get; init; } = [];
    /// <summary>
    /// generation_config.json's eos_token_id (an int or a list), which generate() prefers; null where that file does not say.
    /// </summary>
    public int[]? GenerationEosTokenIds { get; init; }
    public int? PadTokenId { get; init; }
    /// <summary>The whole config.json as read, so exports can keep every key.</summary>
    public JsonObject? Json { get; init; }

    /// <summary>Parameters implied by the config (a tied lm_head counted once).</summary>
    public abstract long ParameterCount { get; }

    /// <summary>Rows for `qzo inspect`: (what, value).</summary>
    public abstract IEnumerable<(string Key, string Value)> Describe();

    public static ModelConfig Load(string path) => Parse(JsonConfigReader.Load(path));

    public static ModelConfig Parse(JsonConfigReader c)
    {
        string modelType = c.String("model_type") ?? throw c.Missing("model_type");
        var architecture = ArchitectureRegistry.FromModelType(modelType)
            ?? throw new QzoException(
                $"{c.SourceFile}: model_type '{modelType}' is not supported (supported: {ArchitectureRegistry.SupportedModelTypes})");
        if (c.Json["architectures"] is JsonArray archs && archs.Count > 0)
        {
            var names = archs.Select(a => a?.GetValue<string>()).ToList();
            string className = ArchitectureRegistry.ClassNameFor(architecture, modelType);
            if (!names.Contains(className))
                throw new QzoException($"{c.SourceFile}: architecture {string.Join(", ", names)} is not supported for "
                                       + $"model_type '{modelType}' (supported: {className})");
        }
        return architecture.ParseConfig(c);
    }

    /// <summary>bos/eos/pad ids as config.json gives them (eos may be a list).</summary>
    protected static (int? Bos, int[] Eos, int? Pad) TokenIds(JsonConfigReader c) =>
        (c.Has("bos_token_id") ? c.IntList("bos_token_id").FirstOrDefault() : null,
         c.IntList("eos_token_id"),
         c.Has("pad_token_id") ? c.IntList("pad_token_id").FirstOrDefault() : null);

    protected static void Positive(string source, int value, string key)
    {
        if (value <= 0) throw new QzoException($"{source}: '{key}' must be positive, got {value}");
    }
}
