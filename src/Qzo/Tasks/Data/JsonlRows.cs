using Qzo.IO;

namespace Qzo.Tasks.Data;

/// <summary>Rows of a JSONL file: one JSON object per non-blank line.</summary>
public static class JsonlRows
{
    public static IReadOnlyList<TaskRow> Read(string path) =>
        JsonlFile.ReadObjects(path, "data file").Select(r => new TaskRow(r.Row, $"{path}:{r.Line}")).ToList();
}
