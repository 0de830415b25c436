namespace Qzo.IO;

/// <summary>
/// What a killed write leaves beside its target and how the next writer, holding the target's <see cref="OutputLock"/>,
/// tidies it: "TARGET.tmp-*" (a write that never finished) is deleted; "TARGET.old-*" (the previous version, moved aside
/// by a replacement) is restored when TARGET is missing, since the kill came between the two renames, and deleted
/// otherwise, since the new version was already in place.
/// </summary>
public static class InterruptedWrites
{
    public const string TemporaryMarker = ".tmp-", PreviousMarker = ".old-";

    /// <summary>Tidies the leftovers of <paramref name="target"/> (a full path); returns a line for each thing restored.</summary>
    public static IReadOnlyList<string> Recover(string target)
    {
        string folder = Path.GetDirectoryName(target)!, name = Path.GetFileName(target);
        if (!Directory.Exists(folder)) return [];
        var notes = new List<string>();
        foreach (var stale in Leftovers(folder, name + TemporaryMarker)) Delete(stale);
        var previous = Leftovers(folder, name + PreviousMarker).OrderByDescending(p => new FileInfo(p).LastWriteTimeUtc).ToList();
        if (previous.Count > 0 && Posix.KindOf(target, followLinks: false) == Posix.Kind.Missing && !File.Exists(target))
        {
            Move(previous[0], target);
            Posix.FsyncDirectory(folder);
            notes.Add($"restored {target} from {Path.GetFileName(previous[0])}, the copy an interrupted replacement had moved aside");
            previous.RemoveAt(0);
        }
        foreach (var old in previous) Delete(old);
        return notes;
    }

    static IEnumerable<string> Leftovers(string folder, string prefix) =>
        Directory.EnumerateFileSystemEntries(folder, prefix + "*")
            .Where(p => Path.GetFileName(p).StartsWith(prefix, StringComparison.Ordinal)).ToList();

    static void Move(string from, string to)
    {
        if (Directory.Exists(from)) Directory.Move(from, to);
        else File.Move(from, to);
    }

    static void Delete(string path)
    {
        if (Posix.KindOf(path, followLinks: false) == Posix.Kind.Directory) Directory.Delete(path, recursive: true);
        else File.Delete(path);
    }
}
