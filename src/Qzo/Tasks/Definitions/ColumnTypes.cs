using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qzo.Tasks.Definitions;

/// <summary>The column types a task definition may require, and the check of a value against one.</summary>
public static class ColumnTypes
{
    public static readonly IReadOnlyList<string> Known = ["string", "int", "bool", "float", "string[]", "int[]"];

    public static bool Matches(JsonNode? value, string type) => type switch
    {
        "string" => Kind(value) == JsonValueKind.String,
        "int" => Kind(value) == JsonValueKind.Number && value!.AsValue().TryGetValue<long>(out _),
        "bool" => Kind(value) is JsonValueKind.True or JsonValueKind.False,
        "float" => Kind(value) == JsonValueKind.Number,
        "string[]" => value is JsonArray a && a.All(n => Matches(n, "string")),
        "int[]" => value is JsonArray a && a.All(n => Matches(n, "int")),
        _ => false,
    };

    /// <summary>The type of a value in the same words, for error messages.</summary>
    public static string Describe(JsonNode? value) => value switch
    {
        null => "null",
        JsonArray a => a.Count == 0 ? "an empty list" : $"a list of {Describe(a[0])}",
        JsonObject => "a struct",
        _ => Kind(value) switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => value.AsValue().TryGetValue<long>(out _) ? "int" : "float",
            _ => "bool",
        },
    };

    static JsonValueKind Kind(JsonNode? value) => value?.GetValueKind() ?? JsonValueKind.Null;
}
