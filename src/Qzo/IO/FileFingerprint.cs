using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Qzo.IO;

/// <summary>
/// What a file held when something was computed from it: its path relative to a root, size, modification time and
/// SHA-256. <see cref="Changed"/> trusts an unchanged size and time (as make and git do) and hashes only files whose
/// size or time moved, so checking a 10 GB text encoder that nobody touched costs a stat, while a copy of the same
/// weights elsewhere (new times) is hashed once and recognised by content.
/// </summary>
public sealed record FileFingerprint(string Path, long Bytes, long ModifiedTicks, string Sha256)
{
    public static FileFingerprint Take(string root, string relative)
    {
        string full = System.IO.Path.Combine(root, relative);
        var info = new FileInfo(full);
        if (!info.Exists) throw new QzoException($"{full}: file not found");
        return new FileFingerprint(relative, info.Length, info.LastWriteTimeUtc.Ticks, Hash(full));
    }

    /// <summary>Fingerprints of the files, in ordinal path order, hashed in parallel.</summary>
    public static IReadOnlyList<FileFingerprint> TakeAll(string root, IEnumerable<string> relative, Action<int>? done = null)
    {
        var paths = relative.Distinct().Order(StringComparer.Ordinal).ToArray();
        var result = new FileFingerprint[paths.Length];
        int count = 0;
        Parallel.For(0, paths.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            result[i] = Take(root, paths[i]);
            done?.Invoke(Interlocked.Increment(ref count));
        });
        return result;
    }

    /// <summary>
    /// The first difference between the recorded files and those now under <paramref name="root"/> (the paths given), as a
    /// phrase naming the file ("vae/diffusion_pytorch_model.safetensors changed"); null when all match.
    /// </summary>
    public static string? Changed(IReadOnlyList<FileFingerprint> recorded, string root, IEnumerable<string> current)
    {
        var now = current.Distinct().Order(StringComparer.Ordinal).ToList();
        var byPath = recorded.ToDictionary(f => f.Path, StringComparer.Ordinal);
        if (now.FirstOrDefault(p => !byPath.ContainsKey(p)) is { } added) return $"{added} is new";
        if (recorded.FirstOrDefault(f => !now.Contains(f.Path)) is { } removed) return $"{removed.Path} is gone";
        foreach (var path in now)
        {
            var was = byPath[path];
            var info = new FileInfo(System.IO.Path.Combine(root, path));
            if (!info.Exists) return $"{path} is gone";
            if (info.Length != was.Bytes) return $"{path} changed ({was.Bytes} → {info.Length} bytes)";
            if (info.LastWriteTimeUtc.Ticks != was.ModifiedTicks && Hash(info.FullName) != was.Sha256) return $"{path} changed";
        }
        return null;
    }

    /// <summary>One SHA-256 over every file's path, size and hash: equal for equal contents wherever the files lie.</summary>
    public static string Combined(IEnumerable<FileFingerprint> files)
    {
        var text = new StringBuilder();
        foreach (var f in files.OrderBy(f => f.Path, StringComparer.Ordinal)) text.Append($"{f.Path}\t{f.Bytes}\t{f.Sha256}\n");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public JsonObject ToJson() => new() { ["path"] = Path, ["bytes"] = Bytes, ["modified_ticks"] = ModifiedTicks, ["sha256"] = Sha256 };

    public static FileFingerprint FromJson(JsonObject o, string where) => new(
        JsonFields.Required<string>(o, "path", where), JsonFields.Required<long>(o, "bytes", where),
        JsonFields.Required<long>(o, "modified_ticks", where), JsonFields.Required<string>(o, "sha256", where));

    static string Hash(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new QzoException($"{path}: cannot read ({e.Message})"); }
    }
}
