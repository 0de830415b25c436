using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Gptq;

namespace Qzo.Quantization;

/// <summary>Reads quantization_config (or quantize_config.json) as the method its quant_method names.</summary>
public static class QuantizationConfigs
{
    public static IQuantizationConfig Parse(JsonObject json, string sourceFile)
    {
        // GPTQ's own quantize_config.json may omit quant_method.
        string method = json["quant_method"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "gptq";
        return method.ToLowerInvariant() switch
        {
            "gptq" => GptqConfig.Parse(json, sourceFile),
            "aqlm" => AqlmConfig.Parse(json, sourceFile),
            "bitsandbytes" => BitsAndBytesConfig.Parse(json, sourceFile),
            _ => throw new QzoException($"{sourceFile}: quant_method \"{method}\" is not supported (supported: gptq, aqlm, bitsandbytes)"),
        };
    }
}
