namespace Qzo.Hub;

/// <summary>
/// Puts one file of a commit into its snapshot folder as huggingface_hub does: HEAD for its ETag and size, the blob
/// downloaded under the lock .locks/REPO/ETAG.lock (an flock, the same lock Python's filelock takes), then the snapshot
/// entry made a relative link to ../../blobs/ETAG, or, where links cannot be made or HF_HUB_DISABLE_SYMLINKS is set,
/// the blob itself moved there (a new blob) or copied (one other snapshots may link to).
/// </summary>
static class SnapshotFile
{
    /// <summary>The file's path in the snapshot, or null when the repository has no such file at that commit.</summary>
    public static string? Fetch(HubHttp http, HubCache cache, HubRepo repo, string commit, string file, IHubProgress progress)
    {
        string pointer = cache.PointerPath(repo, commit, file);
        if (File.Exists(pointer)) return pointer;
        if (cache.IsMarkedMissing(repo, commit, file)) return null;
        var request = new HubRequest(http.Settings, repo, commit, file, http.ResolveUrl(repo, commit, file));
        var metadata = http.Head(repo, commit, file, out string? missingAt);
        if (metadata is null)
        {
            if (missingAt is not null) cache.MarkMissing(repo, missingAt, file);
            return null;
        }
        if (metadata.Commit != commit)
            throw new QzoException($"{request.Describe}: asked for commit {commit}, the Hub answered for {metadata.Commit}");
        if (metadata.Etag.Length == 0 || metadata.Etag.Contains('/') || metadata.Etag.StartsWith('.'))
            throw new QzoException($"{request.Describe}: the Hub's ETag '{metadata.Etag}' cannot name a blob file");

        string blob = cache.BlobPath(repo, metadata.Etag);
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        cache.TagFolder();
        using (Lock(cache.LockPath(repo, metadata.Etag), file, progress))
        {
            bool fresh = !File.Exists(blob);
            if (fresh) BlobDownload.Run(http, request, metadata, blob, progress);
            if (!File.Exists(pointer)) Link(blob, pointer, fresh, http.Settings.NoSymlinks);
        }
        return pointer;
    }

    static FileStream Lock(string path, string file, IHubProgress progress)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        bool told = false;
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (File.Exists(path))
            {
                if (!told) progress.Note($"{file}: another process is downloading it ({path}); waiting for it");
                told = true;
                Thread.Sleep(500);
            }
        }
    }

    static void Link(string blob, string pointer, bool freshBlob, bool noSymlinks)
    {
        if (!noSymlinks)
        {
            try
            {
                File.CreateSymbolicLink(pointer, Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob));
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (File.Exists(pointer)) return; // made by another process meanwhile
            }
        }
        if (freshBlob) File.Move(blob, pointer);
        else File.Copy(blob, pointer);
    }
}
