using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// transformers' BitsAndBytesConfig for 4-bit checkpoints (quant_method "bitsandbytes", load_in_4bit). What each
/// linear holds is read from its own quant_state; this config says what the checkpoint as a whole was made with.
/// </summary>
/// <param name="SkipModules">llm_int8_skip_modules: linears left unquantized (null: transformers' default, lm_head)</param>
public sealed record BitsAndBytesConfig(FourBitType QuantType, bool DoubleQuant, string ComputeDType, IReadOnlyList<string>? SkipModules)
    : IQuantizationConfig
{
    public string QuantMethod => "bitsandbytes";

    public string Description =>
        $"bitsandbytes {QuantType.Name()} (4-bit, blockwise absmax{(DoubleQuant ? ", double quant" : "")}, compute {ComputeDType})";

    public static BitsAndBytesConfig Parse(JsonObject json, string sourceFile)
    {
        QzoException Bad(string key, string problem) => new($"{sourceFile}: bitsandbytes config key \"{key}\" {problem}");
        bool? Flag(string key) => json[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            var other => throw Bad(key, $"is {other.ToJsonString()}; expected true or false"),
        };
        string? Text(string key) => json[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            var other => throw Bad(key, $"is {other.ToJsonString()}; expected a string"),
        };

        if ((Flag("load_in_8bit") ?? Flag("_load_in_8bit")) == true)
            throw Bad("load_in_8bit", "is true; 8-bit (LLM.int8) checkpoints are not supported, only 4-bit (nf4, fp4)");
        if ((Flag("load_in_4bit") ?? Flag("_load_in_4bit")) != true) throw Bad("load_in_4bit",
            "is not true; only 4-bit checkpoints are supported");
        string typeName = Text("bnb_4bit_quant_type") ?? "fp4"; // transformers' default
        if (!FourBitTypes.TryParse(typeName, out var type)) throw Bad("bnb_4bit_quant_type", $"is \"{typeName}\"; supported: nf4, fp4");
        string storage = Text("bnb_4bit_quant_storage") ?? "uint8";
        if (storage != "uint8") throw Bad("bnb_4bit_quant_storage", $"is \"{storage}\"; only uint8 storage is supported");
        var skip = json["llm_int8_skip_modules"] switch
        {
            null => null,
            JsonArray list => list.Select(m => m is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
                : throw Bad("llm_int8_skip_modules", "holds a non-string")).ToList(),
            var other => throw Bad("llm_int8_skip_modules", $"is {other.ToJsonString()}; expected a list of module names"),
        };
        return new BitsAndBytesConfig(type, Flag("bnb_4bit_use_double_quant") ?? false, Text("bnb_4bit_compute_dtype") ?? "float32", skip)
        { Source = (JsonObject)json.DeepClone() };
    }

    /// <summary>The JSON this config was parsed from, kept by <see cref="ToJson"/>.</summary>
    public JsonObject? Source { get; init; }

    /// <summary>The config as transformers' BitsAndBytesConfig.to_dict writes it (keys of <see cref="Source"/> kept).</summary>
    public JsonObject ToJson()
    {
        var json = Source?.DeepClone() as JsonObject ?? new JsonObject();
        json["quant_method"] = QuantMethod;
        json["_load_in_4bit"] = true;
        json["_load_in_8bit"] = false;
        json["load_in_4bit"] = true;
        json["load_in_8bit"] = false;
        json["bnb_4bit_quant_type"] = QuantType.Name();
        json["bnb_4bit_use_double_quant"] = DoubleQuant;
        json["bnb_4bit_compute_dtype"] = ComputeDType;
        json["bnb_4bit_quant_storage"] = "uint8";
        json["llm_int8_skip_modules"] = SkipModules is null ? null : new JsonArray(SkipModules.Select(m => (JsonNode?)m).ToArray());
        json["llm_int8_threshold"] ??= JsonNode.Parse("6.0"); // a Python float: written 6.0, not 6
        json["llm_int8_has_fp16_weight"] ??= false;
        json["llm_int8_enable_fp32_cpu_offload"] ??= false;
        return json;
    }

    public QuantizedTensorRole RoleOf(CheckpointTensors tensors, string name)
    {
        if (name.EndsWith(Bnb4BitLinearTensors.AbsmaxSuffix, StringComparison.Ordinal)) return QuantizedTensorRole.Scale;
        if (name.Contains(Bnb4BitQuantState.TensorInfix, StringComparison.Ordinal) ||
            name.EndsWith(Bnb4BitLinearTensors.QuantMapSuffix, StringComparison.Ordinal) ||
            name.EndsWith(Bnb4BitLinearTensors.NestedAbsmaxSuffix, StringComparison.Ordinal) ||
            name.EndsWith(Bnb4BitLinearTensors.NestedQuantMapSuffix, StringComparison.Ordinal) ||
            IsPackedWeight(tensors, name)) return QuantizedTensorRole.Frozen;
        return QuantizedTensorRole.Unquantized;
    }

    public long QuantizedWeightCount(CheckpointTensors tensors) =>
        tensors.Names.Where(n => IsPackedWeight(tensors, n)).Sum(n => tensors.Get(n).ElementCount * 2);

    static bool IsPackedWeight(CheckpointTensors tensors, string name) =>
        name.EndsWith(".weight", StringComparison.Ordinal) && tensors.Contains(name + ".absmax");
}
