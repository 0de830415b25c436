using Qzo.IO;

namespace Qzo.Hub;

/// <summary>
/// The cache layout huggingface_hub reads and writes (its file_download.py), under <see cref="HubSettings.CacheFolder"/>:
/// <code>
/// models--org--name/refs/main                       the commit a branch or tag pointed to, 40 hex digits, no newline
/// models--org--name/snapshots/COMMIT/config.json    a relative link to ../../blobs/ETAG (or a copy without links)
/// models--org--name/blobs/ETAG                      the content: ETAG is the git blob sha1, or the sha256 for LFS files
/// models--org--name/.no_exist/COMMIT/FILE           an empty marker: FILE is not in the repository at COMMIT
/// .locks/models--org--name/ETAG.lock                held while ETAG downloads
/// </code>
/// A revision "refs/convert/parquet" is stored as the file refs/refs/convert/parquet.
/// </summary>
public sealed class HubCache(HubSettings settings)
{
    public string Root => settings.CacheFolder;

    public string StorageFolder(HubRepo repo) => Path.Combine(Root, repo.FolderName);

    public string SnapshotFolder(HubRepo repo, string commit) => Path.Combine(StorageFolder(repo), "snapshots", commit);

    public string BlobPath(HubRepo repo, string etag) => Path.Combine(StorageFolder(repo), "blobs", etag);

    public string LockPath(HubRepo repo, string etag) => Path.Combine(Root, ".locks", repo.FolderName, etag + ".lock");

    /// <summary>The file at <paramref name="relative"/> ('/'-separated) of a snapshot, refused if it would leave it.</summary>
    public string PointerPath(HubRepo repo, string commit, string relative)
    {
        string snapshot = SnapshotFolder(repo, commit);
        string path = Path.GetFullPath(Path.Combine(snapshot, Path.Combine(relative.Split('/'))));
        if (!path.StartsWith(Path.GetFullPath(snapshot) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new QzoException($"{repo.Describe}: file name '{relative}' leads outside its snapshot folder");
        return path;
    }

    /// <summary>The commit a revision stands for in the cache: a commit id itself, else the content of refs/REVISION.</summary>
    public string? CommitOf(HubRepo repo, string revision)
    {
        if (HubRepo.IsCommitHash(revision)) return revision;
        string refFile = RefPath(repo, revision);
        if (!File.Exists(refFile)) return null;
        string commit = File.ReadAllText(refFile).Trim();
        return HubRepo.IsCommitHash(commit) ? commit : null;
    }

    /// <summary>Records that <paramref name="revision"/> points to <paramref name="commit"/> (atomically; only if changed).</summary>
    public void WriteRef(HubRepo repo, string revision, string commit)
    {
        if (revision == commit) return;
        string refFile = RefPath(repo, revision);
        if (File.Exists(refFile) && File.ReadAllText(refFile) == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(refFile)!);
        AtomicFile.WriteAllText(refFile, commit);
    }

    public bool IsMarkedMissing(HubRepo repo, string commit, string relative) =>
        File.Exists(Path.Combine(StorageFolder(repo), ".no_exist", commit, Path.Combine(relative.Split('/'))));

    public void MarkMissing(HubRepo repo, string commit, string relative)
    {
        string marker = Path.Combine(StorageFolder(repo), ".no_exist", commit, Path.Combine(relative.Split('/')));
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
            if (!File.Exists(marker)) File.WriteAllBytes(marker, []);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a marker only saves a request
    }

    /// <summary>The files of a snapshot folder, '/'-separated and relative to it (links count as files).</summary>
    public static IReadOnlyList<string> FilesOf(string snapshot) =>
        !Directory.Exists(snapshot) ? [] : Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(snapshot, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => File.Exists(Path.Combine(snapshot, f))) // a dangling link is no file
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>Tags the cache folder for backup tools (the Cache Directory Tagging Specification), as huggingface_hub does.</summary>
    public void TagFolder()
    {
        string tag = Path.Combine(Root, "CACHEDIR.TAG");
        if (File.Exists(tag)) return;
        try
        {
            File.WriteAllText(tag, "Signature: 8a477f597d28d172789f06886806bc55\n" +
                                   "# This file is a cache directory tag created by qzo (the huggingface_hub cache layout).\n" +
                                   "# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The file refs/REVISION that names a branch's or tag's commit (nested for a revision with slashes).</summary>
    public string RefPath(HubRepo repo, string revision)
    {
        string refs = Path.Combine(StorageFolder(repo), "refs");
        string path = Path.GetFullPath(Path.Combine(refs, Path.Combine(revision.Split('/'))));
        if (!path.StartsWith(Path.GetFullPath(refs) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new QzoException($"{repo.Describe}: revision '{revision}' is not a branch, tag or commit name");
        return path;
    }
}
