using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// Reads fields of a tokenizer.json / tokenizer_config.json element. Every failure becomes a
/// <see cref="TokenizerFormatException"/>, which the loader turns into a QzoException naming the file.
/// </summary>
internal static class JsonReader
{
    public static JsonElement? Optional(this JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static JsonElement Required(this JsonElement obj, string name, string where) =>
        obj.Optional(name) ?? throw new TokenizerFormatException($"{where}: missing \"{name}\"");

    public static string RequiredString(this JsonElement obj, string name, string where)
    {
        var v = obj.Required(name, where);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new TokenizerFormatException(
            $"{where}: \"{name}\" must be a string");
    }

    public static string? OptionalString(this JsonElement obj, string name, string where)
    {
        var v = obj.Optional(name);
        if (v is null) return null;
        return v.Value.ValueKind == JsonValueKind.String ? v.Value.GetString() : throw new TokenizerFormatException(
            $"{where}: \"{name}\" must be a string");
    }

    public static bool OptionalBool(this JsonElement obj, string name, bool fallback, string where)
    {
        var v = obj.Optional(name);
        if (v is null) return fallback;
        return v.Value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TokenizerFormatException($"{where}: \"{name}\" must be true or false"),
        };
    }

    /// <summary>
    /// A non-negative 32-bit integer; false for any other value, strings and other kinds included (TryGetInt32 alone throws on those).
    /// </summary>
    public static bool TryGetId(this JsonElement v, out int id)
    {
        id = 0;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out id) && id >= 0;
    }

    public static int RequiredInt(this JsonElement obj, string name, string where)
    {
        var v = obj.Required(name, where);
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0
            ? i : throw new TokenizerFormatException($"{where}: \"{name}\" must be a non-negative integer");
    }

    public static JsonElement.ArrayEnumerator RequiredArray(this JsonElement obj, string name, string where)
    {
        var v = obj.Required(name, where);
        return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : throw new TokenizerFormatException(
            $"{where}: \"{name}\" must be an array");
    }

    /// <summary>The "type" tag of a component (normalizer, decoder, ...).</summary>
    public static string TypeOf(this JsonElement obj, string where)
    {
        if (obj.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException($"{where} must be an object");
        return obj.RequiredString("type", where);
    }

    /// <summary>A Replace pattern: {"String": "..."}; the Regex form is not supported.</summary>
    public static string StringPattern(this JsonElement obj, string where)
    {
        var pattern = obj.Required("pattern", where);
        if (pattern.Optional("String") is { ValueKind: JsonValueKind.String } s) return s.GetString()!;
        if (pattern.Optional("Regex") is not null) throw new TokenizerFormatException(
            $"{where}: Regex patterns are not supported (only {{\"String\": ...}})");
        throw new TokenizerFormatException($"{where}: \"pattern\" must be {{\"String\": ...}}");
    }

    /// <summary>A single-character setting such as Metaspace's "replacement" (one Unicode scalar).</summary>
    public static System.Text.Rune RequiredRune(this JsonElement obj, string name, string where)
    {
        string s = obj.RequiredString(name, where);
        if (System.Text.Rune.DecodeFromUtf16(s, out var rune, out int used) == System.Buffers.OperationStatus.Done
            && used == s.Length) return rune;
        throw new TokenizerFormatException($"{where}: \"{name}\" must be exactly one character");
    }
}

/// <summary>A problem inside a tokenizer file; the message names the component, the loader adds the file name.</summary>
internal sealed class TokenizerFormatException(string message) : Exception(message);
