using System.Security.Cryptography;
using System.Text;
using Qzo.IO;

namespace Qzo.Compute.Cuda.Nvrtc;

/// <summary>
/// Cubins that NVRTC compiled, kept on disk so that a second start loads them instead of compiling (docs/kernels.md,
/// "Compiled-kernel cache"). A cubin's file name is the SHA-256 of everything it depends on (source, options with the
/// architecture, NVRTC version, driver version, GPU name); its content ends in its own SHA-256, so a torn or damaged file
/// is compiled again and replaced, never loaded. The cache only saves time: when its folder cannot be written the cubin
/// is still returned, and one warning says why.
/// </summary>
internal sealed class CompiledKernelCache(string? folder)
{
    /// <summary>A folder to use instead of the default, or "off" to compile every time.</summary>
    public const string EnvironmentVariable = "QZO_KERNEL_CACHE";
    const int DigestBytes = 32;
    static int _warned;

    /// <summary>Null when caching is off.</summary>
    public string? Folder { get; } = folder;

    /// <summary>$QZO_KERNEL_CACHE, else $XDG_CACHE_HOME/qzo/kernels, else ~/.cache/qzo/kernels; null when set to "off".</summary>
    public static CompiledKernelCache FromEnvironment()
    {
        string? chosen = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.Equals(chosen, "off", StringComparison.OrdinalIgnoreCase)) return new CompiledKernelCache(null);
        if (!string.IsNullOrEmpty(chosen)) return new CompiledKernelCache(chosen);
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return new CompiledKernelCache(Path.Combine(root, "qzo", "kernels"));
    }

    /// <summary>The cache key of a cubin: hex SHA-256 over the parts, each length-prefixed so no two lists collide.</summary>
    public static string Key(IEnumerable<string> parts)
    {
        var text = new StringBuilder();
        foreach (var part in parts) text.Append(part.Length).Append(':').Append(part).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>The cached cubin of <paramref name="key"/>, or <paramref name="compile"/>'s, stored for the next start.</summary>
    public byte[] GetOrCompile(string key, Func<byte[]> compile, out bool fromCache)
    {
        fromCache = false;
        if (Folder is null) return compile();
        string path = Path.Combine(Folder, key + ".cubin");
        if (TryRead(path) is { } cached)
        {
            fromCache = true;
            return cached;
        }
        var cubin = compile();
        try
        {
            Directory.CreateDirectory(Folder);
            AtomicFile.Write(path, stream =>
            {
                stream.Write(cubin);
                stream.Write(SHA256.HashData(cubin));
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Interlocked.Exchange(ref _warned, 1) == 0)
                Console.Error.WriteLine($"warning: compiled kernels are not cached ({Folder}: {e.Message}); " +
                                        $"set {EnvironmentVariable} to a writable folder, or to off");
        }
        return cubin;
    }

    static byte[]? TryRead(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        if (bytes.Length <= DigestBytes) return null;
        var content = bytes.AsSpan(0, bytes.Length - DigestBytes);
        return SHA256.HashData(content).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - DigestBytes)) ? content.ToArray() : null;
    }
}
