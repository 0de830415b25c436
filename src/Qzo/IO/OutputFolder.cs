namespace Qzo.IO;

/// <summary>
/// Writes a folder atomically: everything goes into a sibling temporary folder, which is renamed to the
/// target only when complete. On failure the temporary folder is deleted, so nothing half-written is left.
/// </summary>
public static class OutputFolder
{
    public static void Write(string target, bool overwrite, Action<string> fill)
    {
        target = Path.GetFullPath(target).TrimEnd(Path.DirectorySeparatorChar);
        if (File.Exists(target)) throw new QzoException($"{target}: exists and is a file");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !overwrite)
            throw new QzoException($"{target}: folder exists and is not empty (pass --force to replace it)");
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var temporary = $"{target}.tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temporary);
        try
        {
            fill(temporary);
            if (Directory.Exists(target))
            {
                var old = $"{target}.old-{Guid.NewGuid():N}";
                Directory.Move(target, old);
                Directory.Move(temporary, target);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(temporary, target);
        }
        catch
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
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
