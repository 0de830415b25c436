using System.Text.Json.Nodes;

namespace Qzo.IO;

/// <summary>
/// Typed reads from JSON that Qzo wrote itself (run state, evaluations): a missing key or a wrong type means the file
/// was damaged or edited, which is one line naming the file and key rather than an InvalidOperationException.
/// </summary>
public static class JsonFields
{
    public static T Required<T>(JsonObject o, string key, string where) =>
        o[key] is null ? throw new QzoException($"{where}: '{key}' is missing") : Optional<T>(o, key, where)!;

    /// <summary>The value, or default when the key is absent or null.</summary>
    public static T? Optional<T>(JsonObject o, string key, string where)
    {
        var node = o[key];
        if (node is null) return default;
        if (node is JsonValue v && v.TryGetValue(out T? value)) return value;
        throw new QzoException($"{where}: '{key}' must be {Describe(typeof(T))}, got {Shorten(node.ToJsonString())}");
    }

    public static JsonObject RequiredObject(JsonObject o, string key, string where) =>
        o[key] as JsonObject ?? throw new QzoException($"{where}: '{key}' must be an object");

    public static JsonArray RequiredArray(JsonObject o, string key, string where) =>
        o[key] as JsonArray ?? throw new QzoException($"{where}: '{key}' must be an array");

    static string Describe(Type t) =>
        t == typeof(string) ? "a string" : t == typeof(int) || t == typeof(long) ? "an integer" : t == typeof(double) ? "a number" : t.Name;

    static string Shorten(string json) => json.Length <= 40 ? json : json[..37] + "...";
}
