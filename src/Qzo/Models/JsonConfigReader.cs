using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Models;

/// <summary>Typed reads from a config.json object, with errors that name the file and key.</summary>
public sealed class JsonConfigReader(JsonObject json, string sourceFile)
{
    public JsonObject Json { get; } = json;
    public string SourceFile { get; } = sourceFile;

    public static JsonConfigReader Load(string path)
    {
        var node = StrictJson.Parse(StrictUtf8.ReadAllText(path), path);
        return node is JsonObject o ? new JsonConfigReader(o, path) : throw new QzoException($"{path}: expected a JSON object");
    }

    public bool Has(string key) => Json.TryGetPropertyValue(key, out var v) && v is not null;

    public int RequireInt(string key) => Has(key) ? Int(key) : throw Missing(key);
    public int Int(string key, int fallback) => Has(key) ? Int(key) : fallback;
    public double Double(string key, double fallback) => Has(key) ? Number(Json[key]!, key) : fallback;
    public bool Bool(string key, bool fallback) => Has(key) ? Value<bool>(key) : fallback;
    public string? String(string key) => Has(key) ? Value<string>(key) : null;

    int Int(string key)
    {
        double d = Number(Json[key]!, key);
        if (d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue) throw Invalid(key, "an integer");
        return (int)d;
    }

    /// <summary>An int or a list of ints (e.g. eos_token_id).</summary>
    public int[] IntList(string key)
    {
        if (!Has(key)) return [];
        var node = Json[key]!;
        if (node is JsonArray array) return array.Select(n => n is null ? throw Invalid(key, "a list of integers") : (int)Number(n, key))
            .ToArray();
        return [Int(key)];
    }

    T Value<T>(string key)
    {
        try { return Json[key]!.GetValue<T>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
            { throw Invalid(key, typeof(T) == typeof(bool) ? "true or false" : "a string"); }
    }

    double Number(JsonNode node, string key)
    {
        try { return node.GetValue<double>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException) { throw Invalid(key, "a number"); }
    }

    public QzoException Missing(string key) => new($"{SourceFile}: required key '{key}' is missing");
    public QzoException Invalid(string key, string expected) =>
        new($"{SourceFile}: '{key}' must be {expected}, got {Json[key]?.ToJsonString() ?? "null"}");
}
