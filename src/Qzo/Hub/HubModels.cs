using System.Text.Json.Nodes;

namespace Qzo.Hub;

/// <summary>
/// A model argument made a folder: a path that exists is used as it is; an "org/name" that is not one is a Hub model,
/// taken from the cache snapshot of its revision (default main) when that holds every file Qzo reads, and otherwise
/// completed from the Hub (only the missing files, see <see cref="ModelFiles"/>) unless offline. docs/hub.md tells the rules.
/// </summary>
public static class HubModels
{
    public const string DefaultRevision = "main";

    /// <summary>Whether <paramref name="argument"/> will be taken as a Hub name (it is no existing path and reads as org/name).</summary>
    public static bool IsHubName(string argument) =>
        !Path.Exists(argument) && HubRepo.TryParse(argument, HubRepoType.Model, out _);

    public static string Folder(string argument, string? revision, HubSettings settings, IHubProgress progress)
    {
        if (!IsHubName(argument))
        {
            if (revision is not null)
                throw new QzoException($"--revision picks a version of a Hub model; {argument} is " +
                                       (Path.Exists(argument) ? "a local path" : "neither a folder nor an org/name Hub id"));
            return argument;
        }
        var repo = new HubRepo(HubRepoType.Model, argument);
        string rev = revision ?? DefaultRevision;
        var cache = new HubCache(settings);
        string? cachedCommit = cache.CommitOf(repo, rev);
        string? gap = cachedCommit is null ? $"not in the cache (no {cache.RefPath(repo, rev)})" : Gap(cache, repo, cachedCommit);
        if (gap is null) return cache.SnapshotFolder(repo, cachedCommit!);
        string intro = $"{argument}: no such folder, and {repo.Describe} (revision {rev})";
        // Offline, the line names the one file the cache lacks, so that it can be fetched (or copied) by hand.
        if (settings.Offline)
            throw new QzoException($"{intro} is {gap}, and HF_HUB_OFFLINE is set: download it with network access or give a folder");

        using var http = new HubHttp(settings) { CacheGap = $"it is {gap}" };
        string commit;
        IReadOnlySet<string> listing;
        try
        {
            var info = http.RepoInfo(repo, rev);
            (commit, listing) = (info.Commit, info.Files.ToHashSet(StringComparer.Ordinal));
        }
        catch (QzoException e) when (e.Message.StartsWith(repo.Describe + ":", StringComparison.Ordinal)
                                     || e.Message.StartsWith(repo.Describe + " ", StringComparison.Ordinal))
        {
            throw new QzoException($"{argument}: no such folder, and {e.Message}");
        }
        Download(http, cache, repo, commit, listing, progress);
        cache.WriteRef(repo, rev, commit);
        return cache.SnapshotFolder(repo, commit);
    }

    static void Download(HubHttp http, HubCache cache, HubRepo repo, string commit, IReadOnlySet<string> listing, IHubProgress progress)
    {
        string Local(string file) =>
            SnapshotFile.Fetch(http, cache, repo, commit, file, progress)
            ?? throw new QzoException($"{repo.Describe}: the Hub lists {file} at {commit} but does not serve it");
        JsonNode? ReadJson(string file) => JsonNode.Parse(File.ReadAllText(Local(file)));

        var folders = ModelFiles.Folders(listing, ReadJson);
        foreach (var file in ModelFiles.Small(listing, folders)) Local(file);
        var weights = folders.SelectMany(folder => ModelFiles.Weights(listing, folder, Local)).ToList();
        if (folders.Any(folder => ModelFiles.HasWeights(listing, folder)) && weights.Count == 0)
            throw new QzoException($"{repo.Describe}: no safetensors weights at {commit} (Qzo reads safetensors only; found " +
                                   $"{string.Join(", ", listing.Where(f => !f.StartsWith('.')).Take(12))})");
        foreach (var file in weights)
            if (!listing.Contains(file))
                throw new QzoException($"{repo.Describe}: the weight index names {file}, which is not in the repository");
        foreach (var file in weights) Local(file);
        // Known absences, as huggingface_hub notes them, so that the cached snapshot counts as complete offline.
        if (!listing.Contains(ModelFiles.PipelineIndex) && !ModelFiles.Tokenizers.Any(listing.Contains))
            foreach (var name in ModelFiles.Tokenizers) cache.MarkMissing(repo, commit, name);
    }

    /// <summary>What the cached snapshot lacks, in words; null when it holds all Qzo reads.</summary>
    static string? Gap(HubCache cache, HubRepo repo, string commit)
    {
        string snapshot = cache.SnapshotFolder(repo, commit);
        var files = HubCache.FilesOf(snapshot).ToHashSet(StringComparer.Ordinal);
        if (!files.Contains("config.json") && !files.Contains(ModelFiles.PipelineIndex))
            return $"incomplete in the cache (no {Path.Combine(snapshot, "config.json")})";
        IReadOnlyList<string> folders;
        try { folders = ModelFiles.Folders(files, f => JsonNode.Parse(File.ReadAllText(Path.Combine(snapshot, f)))); }
        catch (System.Text.Json.JsonException) { return $"incomplete in the cache (unreadable {ModelFiles.PipelineIndex})"; }
        if (folders.FirstOrDefault(f => !ModelFiles.AnyIn(files, f)) is string absent)
            return $"incomplete in the cache (no {Path.Combine(snapshot, absent)}/ folder)";
        foreach (var folder in folders.Where(f => ModelFiles.HasWeights(files, f)))
        {
            var weights = ModelFiles.Weights(files, folder, f => Path.Combine(snapshot, f)).ToList();
            if (weights.Count == 0) return $"incomplete in the cache (no weights in {Path.Combine(snapshot, folder)})";
            if (weights.FirstOrDefault(w => !files.Contains(w)) is string missing)
                return $"incomplete in the cache (no {Path.Combine(snapshot, missing)})";
        }
        bool tokenizer = ModelFiles.Tokenizers.Any(files.Contains)
                         || ModelFiles.Tokenizers.All(t => cache.IsMarkedMissing(repo, commit, t));
        if (!files.Contains(ModelFiles.PipelineIndex) && !tokenizer)
            return $"incomplete in the cache (no tokenizer file: {string.Join(", ", ModelFiles.Tokenizers)} in {snapshot})";
        return null;
    }
}
