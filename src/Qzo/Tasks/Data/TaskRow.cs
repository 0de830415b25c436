using System.Text.Json.Nodes;

namespace Qzo.Tasks.Data;

/// <summary>
/// One row of a data file, as JSON whatever the file's format (Parquet structs become objects, lists arrays).
/// <see cref="Where"/> names the file and row for error messages ("train.parquet: row 17", "train.jsonl:18").
/// </summary>
public sealed record TaskRow(JsonObject Fields, string Where)
{
    /// <summary>The value at a dotted path ("answers.text"); null when a step is missing.</summary>
    public JsonNode? Get(string path)
    {
        JsonNode? node = Fields;
        foreach (var part in path.Split('.'))
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(part, out node)) return null;
        }
        return node;
    }

    public bool Has(string path)
    {
        JsonNode? node = Fields;
        foreach (var part in path.Split('.'))
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(part, out node)) return false;
        return true;
    }

    public QzoException Error(string column, string what) => new($"{Where}, column '{column}': {what}");
}
