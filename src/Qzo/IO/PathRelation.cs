namespace Qzo.IO;

/// <summary>
/// Whether two paths name the same file or folder, or one lies inside the other, however they are spelled:
/// "in/.", "./in", a symlink to it, a bind mount of it. Paths are compared after resolving every link in the part
/// that exists, and by device and inode along the ancestors, so no spelling of a folder escapes the check.
/// </summary>
public static class PathRelation
{
    public enum Kind { Unrelated, Same, FirstInsideSecond, SecondInsideFirst }

    /// <summary>The absolute path with links resolved in its existing part; the missing tail is kept as spelled.</summary>
    public static string Canonical(string path) => Canonical(path, linksLeft: 40);

    static string Canonical(string path, int linksLeft)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        // A link to nothing yet (its target is to be written): follow it by hand, as realpath will not.
        if (linksLeft > 0 && Posix.KindOf(full, followLinks: false) == Posix.Kind.Symlink && Posix.KindOf(full) == Posix.Kind.Missing
            && new FileInfo(full).LinkTarget is string link)
            return Canonical(Path.Combine(Path.GetDirectoryName(full)!, link), linksLeft - 1);
        string existing = full;
        var tail = new Stack<string>();
        while (Posix.KindOf(existing, followLinks: false) == Posix.Kind.Missing && Path.GetDirectoryName(existing) is string parent)
        {
            tail.Push(Path.GetFileName(existing));
            existing = parent;
        }
        string resolved = Posix.RealPath(existing) ?? existing;
        foreach (var part in tail) resolved = Path.Combine(resolved, part);
        return resolved;
    }

    public static Kind Of(string first, string second)
    {
        string a = Canonical(first), b = Canonical(second);
        if (string.Equals(a, b, StringComparison.Ordinal)) return Kind.Same;
        if (IsUnder(a, b)) return Kind.FirstInsideSecond;
        if (IsUnder(b, a)) return Kind.SecondInsideFirst;
        // Bind mounts and other aliases: the same inode met among the ancestors.
        if (Posix.IdentityOf(a) is { } ia && Posix.IdentityOf(b) is { } ib && ia == ib) return Kind.Same;
        if (Posix.IdentityOf(b) is { } idB && AncestorHas(a, idB)) return Kind.FirstInsideSecond;
        if (Posix.IdentityOf(a) is { } idA && AncestorHas(b, idA)) return Kind.SecondInsideFirst;
        return Kind.Unrelated;
    }

    static bool IsUnder(string path, string folder) =>
        path.StartsWith(folder == "/" ? "/" : folder + Path.DirectorySeparatorChar, StringComparison.Ordinal) && path != folder;

    static bool AncestorHas(string path, Posix.Identity identity)
    {
        for (string? p = Path.GetDirectoryName(path); p is not null; p = Path.GetDirectoryName(p))
            if (Posix.IdentityOf(p) == identity) return true;
        return false;
    }
}
