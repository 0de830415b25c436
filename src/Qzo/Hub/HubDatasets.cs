namespace Qzo.Hub;

/// <summary>
/// A dataset argument made a data folder: a path that exists is used as it is; otherwise a Hub dataset id ("org/name",
/// or a legacy single name such as "glue"), whose subset's Parquet files for the splits a run reads come from the cache
/// snapshot or the Hub. Without a revision the main branch is tried first, then refs/convert/parquet (the Parquet export
/// the Hub makes of every dataset it can read, as `datasets` falls back to it).
/// </summary>
public static class HubDatasets
{
    public const string DefaultSubset = "default";
    public const string ParquetBranch = "refs/convert/parquet";

    public static bool IsHubName(string argument) => !Path.Exists(argument) && HubRepo.TryParse(argument, HubRepoType.Dataset, out _);

    public static string Folder(string argument, string? subset, string? revision, IReadOnlyList<string> splits, HubSettings settings,
        IHubProgress progress)
    {
        if (!IsHubName(argument))
        {
            if (subset is not null || revision is not null)
                throw new QzoException($"--subset and --data-revision pick part of a Hub dataset; {argument} is " +
                                       (Path.Exists(argument) ? "a local path" : "neither a folder nor a Hub dataset id"));
            return argument;
        }
        var repo = new HubRepo(HubRepoType.Dataset, argument);
        if (subset is not null && (subset.Length == 0 || subset.Contains('/') || subset.Contains("..")))
            throw new QzoException($"--subset '{subset}' is not a subset (config) name of {argument}");
        string config = subset ?? DefaultSubset;
        string[] revisions = revision is null ? [HubModels.DefaultRevision, ParquetBranch] : [revision];
        var cache = new HubCache(settings);
        string what = $"{repo.Describe}, subset '{config}', splits {string.Join(", ", splits)}";

        var gaps = new List<string>();
        foreach (var rev in revisions)
        {
            if (cache.CommitOf(repo, rev) is not string commit) { gaps.Add($"no {cache.RefPath(repo, rev)}"); continue; }
            string snapshot = cache.SnapshotFolder(repo, commit);
            var cached = DatasetFiles.Select(HubCache.FilesOf(snapshot), config, splits);
            if (cached is null) { gaps.Add($"no Parquet files of subset '{config}' for every split in {snapshot}"); continue; }
            var missing = DatasetFiles.MissingShards(cached.Files);
            if (missing.Count == 0) return Path.Combine(snapshot, cached.Folder);
            gaps.Add($"no {Path.Combine(snapshot, missing[0])}");
        }
        // Offline, the line names the file the cache lacks for each revision tried.
        if (settings.Offline)
            throw new QzoException($"{argument}: no such folder, and {what} (revision {string.Join(" or ", revisions)}) is not in the " +
                                   $"cache ({string.Join("; ", gaps)}), and HF_HUB_OFFLINE is set: download it with network access or " +
                                   "give a folder");

        using var http = new HubHttp(settings) { CacheGap = $"it is not in the cache ({string.Join("; ", gaps)})" };
        var seen = new List<string>();
        foreach (var rev in revisions)
        {
            (string Commit, IReadOnlyList<string> Files) info;
            try
            {
                // A dataset the Hub could not convert has no refs/convert/parquet branch.
                if (http.TryRepoInfo(repo, rev, revisionMayBeMissing: rev == ParquetBranch && revision is null) is not { } found) continue;
                info = found;
            }
            catch (QzoException e) when (e.Message.StartsWith(repo.Describe, StringComparison.Ordinal))
            {
                throw new QzoException($"{argument}: no such folder, and {e.Message}");
            }
            seen.AddRange(info.Files);
            if (DatasetFiles.Select(info.Files, config, splits) is not { } selection) continue;
            foreach (var file in selection.Files)
                if (SnapshotFile.Fetch(http, cache, repo, info.Commit, file, progress) is null)
                    throw new QzoException($"{repo.Describe}: the Hub lists {file} at {info.Commit} but does not serve it");
            cache.WriteRef(repo, rev, info.Commit);
            return Path.Combine(cache.SnapshotFolder(repo, info.Commit), selection.Folder);
        }
        var subsets = DatasetFiles.Subsets(seen).ToList();
        throw new QzoException($"{what}: no Parquet files for them in {string.Join(" or ", revisions)}" +
                               (subsets.Count > 0 ? $" (subsets with Parquet files: {string.Join(", ", subsets.Take(20))})" : ""));
    }
}
