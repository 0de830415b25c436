using System.Text.RegularExpressions;

namespace Qzo.Hub;

/// <summary>
/// The Parquet files of one subset (config) and its splits in a dataset repository's file list, in the layouts the
/// Hub uses and src/Qzo/Tasks/Data/TaskDataFolder.cs reads: SUBSET/SPLIT-00000-of-00002.parquet and SUBSET/SPLIT.parquet
/// (datasets' push_to_hub, the main branch), SUBSET/SPLIT/0000.parquet (the refs/convert/parquet branch); the subset
/// "default" is also looked for under data/ and at the root.
/// </summary>
static partial class DatasetFiles
{
    public sealed record Selection(string Folder, IReadOnlyList<string> Files);

    public static Selection? Select(IReadOnlyCollection<string> files, string subset, IReadOnlyList<string> splits)
    {
        string[] folders = subset == "default" ? ["default", "data", ""] : [subset];
        foreach (var folder in folders)
        {
            string prefix = folder.Length == 0 ? "" : folder + "/";
            var chosen = new List<string>();
            foreach (var split in splits)
            {
                var found = files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal) && IsSplitFile(f[prefix.Length..], split))
                    .Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) { chosen = null; break; }
                chosen.AddRange(found);
            }
            if (chosen is not null) return new Selection(folder, chosen);
        }
        return null;
    }

    /// <summary>Shards named "-00001-of-00003" whose siblings are not all there; empty when none are missing.</summary>
    public static IReadOnlyList<string> MissingShards(IReadOnlyList<string> files)
    {
        var missing = new List<string>();
        foreach (var group in files.Select(f => (File: f, Match: ShardPattern().Match(f))).Where(x => x.Match.Success)
                     .GroupBy(x => x.File[..x.Match.Index] + "|" + x.Match.Groups[2].Value))
        {
            var first = group.First();
            int count = int.Parse(first.Match.Groups[2].Value);
            var have = group.Select(x => int.Parse(x.Match.Groups[1].Value)).ToHashSet();
            for (int i = 0; i < count; i++)
                if (!have.Contains(i))
                    missing.Add($"{first.File[..first.Match.Index]}-{i.ToString().PadLeft(first.Match.Groups[1].Length, '0')}" +
                                $"-of-{first.Match.Groups[2].Value}.parquet");
        }
        return missing;
    }

    /// <summary>The subsets a file list shows (its top folders holding Parquet files), for an error line.</summary>
    public static IEnumerable<string> Subsets(IEnumerable<string> files) =>
        files.Where(f => f.EndsWith(".parquet", StringComparison.Ordinal) && f.Contains('/')).Select(f => f[..f.IndexOf('/')])
            .Distinct().Order(StringComparer.Ordinal);

    static bool IsSplitFile(string rest, string split)
    {
        if (!rest.EndsWith(".parquet", StringComparison.Ordinal)) return false;
        if (rest.StartsWith(split + "/", StringComparison.Ordinal)) return !rest[(split.Length + 1)..].Contains('/');
        return !rest.Contains('/') && (rest == split + ".parquet" || rest.StartsWith(split + "-", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"-(\d+)-of-(\d+)\.parquet$")]
    private static partial Regex ShardPattern();
}
