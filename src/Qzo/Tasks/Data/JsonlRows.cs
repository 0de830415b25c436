using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qzo.Tasks.Data;

/// <summary>Rows of a JSONL file: one JSON object per non-blank line.</summary>
public static class JsonlRows
{
    public static IReadOnlyList<TaskRow> Read(string path)
    {
        if (!File.Exists(path)) throw new QzoException($"{path}: data file not found");
        var rows = new List<TaskRow>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            try
            {
                rows.Add(new TaskRow(JsonNode.Parse(text) as JsonObject ?? throw new QzoException($"{path}:{line}: the row is not a JSON object"), $"{path}:{line}"));
            }
            catch (JsonException e) { throw new QzoException($"{path}:{line}: the row is not valid JSON ({e.Message})"); }
        }
        return rows;
    }
}
