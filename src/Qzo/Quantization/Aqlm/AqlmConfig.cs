using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Quantization.Aqlm;

/// <summary>
/// transformers' AqlmConfig (quant_method "aqlm"): in_group_size, out_group_size, num_codebooks, nbits_per_codebook,
/// and linear_weights_not_to_quantize, the full names of the nn.Linear weights left unquantized (transformers
/// replaces every other nn.Linear, lm_head included, with an AQLM layer).
/// </summary>
public sealed record AqlmConfig(AqlmScheme Scheme, IReadOnlyList<string> LinearWeightsNotToQuantize) : IQuantizationConfig
{
    public string QuantMethod => "aqlm";

    public string Description =>
        $"AQLM {Scheme.Name} ({Scheme.Codebooks} codebook{(Scheme.Codebooks == 1 ? "" : "s")} of {Scheme.CodebookBits} bits, " +
        $"in-group {Scheme.InGroupSize}, out-group {Scheme.OutGroupSize}: {Scheme.CodeBitsPerWeight:G3} bits per weight in codes)";

    /// <summary>The JSON this config was parsed from, kept by <see cref="ToJson"/>.</summary>
    public JsonObject? Source { get; init; }

    public static AqlmConfig Parse(JsonObject json, string sourceFile)
    {
        QzoException Bad(string key, string problem) => new($"{sourceFile}: AQLM config key \"{key}\" {problem}");
        int Int(string key, int fallback) => json[key] switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue(out int i) => i,
            var other => throw Bad(key, $"is {other.ToJsonString()}; expected an integer"),
        };
        var scheme = new AqlmScheme(Int("num_codebooks", 1), Int("nbits_per_codebook", 16), Int("in_group_size", 8),
            Int("out_group_size", 1));
        scheme.Validate($"{sourceFile}: AQLM config");
        var skip = json["linear_weights_not_to_quantize"] switch
        {
            null => [],
            JsonArray list => list.Select(m => m is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
                : throw Bad("linear_weights_not_to_quantize", "holds a non-string")).ToList(),
            var other => throw Bad("linear_weights_not_to_quantize", $"is {other.ToJsonString()}; expected a list of weight names"),
        };
        return new AqlmConfig(scheme, skip) { Source = (JsonObject)json.DeepClone() };
    }

    /// <summary>The config as AQLM's convert_to_hf writes it (keys of <see cref="Source"/> kept).</summary>
    public JsonObject ToJson()
    {
        var json = Source?.DeepClone() as JsonObject ?? new JsonObject();
        json["quant_method"] = QuantMethod;
        json["nbits_per_codebook"] = Scheme.CodebookBits;
        json["num_codebooks"] = Scheme.Codebooks;
        json["out_group_size"] = Scheme.OutGroupSize;
        json["in_group_size"] = Scheme.InGroupSize;
        json["linear_weights_not_to_quantize"] = new JsonArray(LinearWeightsNotToQuantize.Select(n => (JsonNode?)n).ToArray());
        return json;
    }

    public QuantizedTensorRole RoleOf(CheckpointTensors tensors, string name) =>
        name.EndsWith(".codes", StringComparison.Ordinal) || name.EndsWith(".codebooks", StringComparison.Ordinal)
            ? QuantizedTensorRole.Frozen
        : name.EndsWith(".scales", StringComparison.Ordinal) && tensors.Contains(name[..^".scales".Length] + ".codes")
            ? QuantizedTensorRole.Scale
        : QuantizedTensorRole.Unquantized;

    public long QuantizedWeightCount(CheckpointTensors tensors) =>
        tensors.Names.Where(n => n.EndsWith(".codes", StringComparison.Ordinal))
            .Sum(n => tensors.Get(n).ElementCount / Scheme.Codebooks * Scheme.InGroupSize * Scheme.OutGroupSize);
}
