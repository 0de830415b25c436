using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// The non-tensor part of a bitsandbytes 4-bit QuantState, as <c>QuantState.as_dict(packed=True)</c> saves it: the
/// UTF-8 bytes of <c>json.dumps</c> of {quant_type, blocksize, dtype, shape} plus, when double-quantized,
/// {nested_blocksize, nested_dtype, nested_offset}, stored as a U8 tensor named
/// <c>&lt;linear&gt;.weight.quant_state.bitsandbytes__&lt;quant_type&gt;</c>.
/// </summary>
public sealed record Bnb4BitQuantState(FourBitType QuantType, int BlockSize, string DType, long[] Shape,
                                       int? NestedBlockSize = null, string? NestedDType = null, float? NestedOffset = null)
{
    public const string TensorInfix = ".weight.quant_state.bitsandbytes__";
    public static readonly int[] SupportedBlockSizes = [32, 64, 128, 256, 512, 1024, 2048, 4096];

    public bool Nested => NestedBlockSize is not null;

    public static string TensorName(string linear, FourBitType type) => linear + TensorInfix + type.Name();

    /// <summary>The bytes bitsandbytes writes: json.dumps with its default separators, keys in as_dict's order.</summary>
    public byte[] ToJsonBytes()
    {
        var text = new StringBuilder();
        text.Append($"{{\"quant_type\": \"{QuantType.Name()}\", \"blocksize\": {BlockSize}, \"dtype\": \"{DType}\", ");
        text.Append($"\"shape\": [{string.Join(", ", Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}]");
        if (Nested)
            text.Append(
                $", \"nested_blocksize\": {NestedBlockSize}, \"nested_dtype\": \"{NestedDType}\", \"nested_offset\": " +
                $"{PythonFloat.Repr(NestedOffset!.Value)}");
        text.Append('}');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static Bnb4BitQuantState Parse(ReadOnlySpan<byte> utf8, string tensorName)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(Qzo.IO.StrictUtf8.Encoding.GetString(utf8),
                documentOptions: new() { AllowDuplicateProperties = false }) as JsonObject
                   ?? throw new JsonException("not an object");
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw new QzoException($"tensor '{tensorName}' should hold a bitsandbytes quant_state as UTF-8 JSON: {e.Message}");
        }
        QzoException Bad(string key, string expected) =>
            new($"tensor '{tensorName}': quant_state key \"{key}\" is {json[key]?.ToJsonString() ?? "missing"}; expected {expected}");
        string Text(string key) => json[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
            : throw Bad(key, "a string");
        int Int(string key) => json[key] is JsonValue v && v.TryGetValue(out int i) ? i : throw Bad(key, "an integer");

        if (!FourBitTypes.TryParse(Text("quant_type"), out var type)) throw Bad("quant_type", "\"nf4\" or \"fp4\"");
        int blockSize = Int("blocksize");
        if (!SupportedBlockSizes.Contains(blockSize)) throw Bad("blocksize", $"one of {string.Join(", ", SupportedBlockSizes)}");
        string dtype = Text("dtype");
        if (dtype is not ("bfloat16" or "float16" or "float32")) throw Bad("dtype", "bfloat16, float16 or float32");
        var shape = json["shape"] is JsonArray dims && dims.All(d => d is JsonValue v && v.TryGetValue(out long _))
            ? dims.Select(d => d!.GetValue<long>()).ToArray() : throw Bad("shape", "a list of integers");

        if (json["nested_blocksize"] is null) return new Bnb4BitQuantState(type, blockSize, dtype, shape);
        int nestedBlockSize = Int("nested_blocksize");
        if (nestedBlockSize <= 0) throw Bad("nested_blocksize", "a positive integer");
        string nestedDType = Text("nested_dtype");
        if (nestedDType != "float32") throw Bad("nested_dtype", "\"float32\"");
        float offset = json["nested_offset"] is JsonValue o && o.TryGetValue(out double d) ? (float)d : throw Bad("nested_offset",
            "a number");
        return new Bnb4BitQuantState(type, blockSize, dtype, shape, nestedBlockSize, nestedDType, offset);
    }
}
