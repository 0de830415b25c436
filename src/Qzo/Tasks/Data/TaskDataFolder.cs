namespace Qzo.Tasks.Data;

/// <summary>
/// Finds a split's files in a data folder laid out as the Hugging Face Hub lays out a dataset's Parquet files,
/// or as JSONL exports of them: <c>train.parquet</c>, <c>train-00000-of-00002.parquet</c>, <c>train/0000.parquet</c>,
/// <c>train.jsonl</c>... Shards are read in name order and concatenated.
/// </summary>
public static class TaskDataFolder
{
    static readonly string[] Extensions = [".parquet", ".jsonl"];

    public static IReadOnlyList<string> SplitFiles(string folder, string split)
    {
        if (!Directory.Exists(folder)) throw new QzoException($"{folder}: data folder not found");
        var files = Directory.EnumerateFiles(folder).Where(f => IsSplitFile(Path.GetFileName(f), split)).ToList();
        string sub = Path.Combine(folder, split);
        if (Directory.Exists(sub)) files.AddRange(Directory.EnumerateFiles(sub).Where(f => Extensions.Contains(Path.GetExtension(f))));
        files.Sort(StringComparer.Ordinal);
        if (files.Select(Path.GetExtension).Distinct().Count() > 1)
            throw new QzoException(
                $"{folder}: split '{split}' has both Parquet and JSONL files ({string.Join(", ", files.Select(Path.GetFileName))}); keep " +
                "one form");
        return files;
    }

    public static bool HasSplit(string folder, string split) => SplitFiles(folder, split).Count > 0;

    public static IReadOnlyList<TaskRow> ReadSplit(string folder, string split)
    {
        var files = SplitFiles(folder, split);
        if (files.Count == 0)
            throw new QzoException(
                $"{folder}: no '{split}' split (expected {split}.parquet, {split}-*.parquet, {split}/*.parquet or {split}.jsonl)");
        return files.SelectMany(ReadFile).ToList();
    }

    public static IReadOnlyList<TaskRow> ReadFile(string path) =>
        Path.GetExtension(path) == ".parquet" ? ParquetRows.Read(path) : JsonlRows.Read(path);

    static bool IsSplitFile(string name, string split)
    {
        string ext = Path.GetExtension(name);
        if (!Extensions.Contains(ext)) return false;
        string stem = name[..^ext.Length];
        return stem == split || stem.StartsWith(split + "-", StringComparison.Ordinal);
    }
}
