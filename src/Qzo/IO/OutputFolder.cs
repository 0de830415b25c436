namespace Qzo.IO;

/// <summary>
/// Writes a folder atomically: everything goes into a sibling temporary folder, which is renamed to the target only
/// when complete. On failure the temporary folder is deleted, so nothing half-written is left. Replacing a folder moves
/// the old one aside to TARGET.old-RANDOM, renames the new one in and only then deletes the old one, flushing the parent
/// folder after each rename; a kill between the renames leaves the old one where <see cref="InterruptedWrites"/> restores
/// it. A symlink to a folder is written through: the folder it points to is replaced, the link stays.
/// </summary>
public static class OutputFolder
{
    public static void Write(string target, bool overwrite, Action<string> fill)
    {
        target = PathRelation.Canonical(target);
        var kind = Posix.KindOf(target);
        if (kind is not (Posix.Kind.Missing or Posix.Kind.Directory) || File.Exists(target))
            throw new QzoException($"{target}: exists and is not a folder");
        if (kind == Posix.Kind.Directory && Directory.EnumerateFileSystemEntries(target).Any() && !overwrite)
            throw new QzoException($"{target}: folder exists and is not empty (pass --force to replace it)");
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var temporary = $"{target}{InterruptedWrites.TemporaryMarker}{Guid.NewGuid():N}";
        Directory.CreateDirectory(temporary);
        try
        {
            fill(temporary);
            if (Directory.Exists(target))
            {
                var old = $"{target}{InterruptedWrites.PreviousMarker}{Guid.NewGuid():N}";
                Directory.Move(target, old);
                Posix.FsyncDirectory(parent);
                Directory.Move(temporary, target);
                Posix.FsyncDirectory(parent);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temporary, target);
                Posix.FsyncDirectory(parent);
            }
        }
        catch (Exception e)
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            if (IoFailure.Is(e)) throw IoFailure.Writing(target, e);
            throw;
        }
    }

    /// <summary>Copies a folder's files and subfolders into another (existing) folder.</summary>
    public static void CopyContents(string source, string destination, Func<string, bool>? skip = null)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (skip?.Invoke(relative) == true) continue;
            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
