using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Qzo.IO;

/// <summary>
/// An exclusive lock on an output (a folder or file), held from the start of a command to its end so that two
/// commands never write one output at once: the file ".NAME.qzo-lock" beside the output, opened with FileShare.None
/// (an flock the kernel drops when the process dies, so a killed run leaves no lock held) and holding the holder's
/// pid and command line, which the second command names when it stops. The lock file is removed on release.
/// </summary>
public sealed class OutputLock : IDisposable
{
    readonly FileStream _stream;

    OutputLock(string path, FileStream stream)
    {
        Path = path;
        _stream = stream;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    public static string LockFileFor(string target) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(target)!, $".{System.IO.Path.GetFileName(target)}.qzo-lock");

    /// <summary>Takes the lock on <paramref name="target"/> (a full path) or stops with one line naming the holder.</summary>
    public static OutputLock Acquire(string target, string option)
    {
        string path = LockFileFor(target);
        // A lock taken on a file that its holder unlinked the moment before is no lock: check the file is still ours.
        for (int attempt = 0; attempt < 5; attempt++)
        {
            FileStream stream;
            try { stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (File.Exists(path))
            {
                throw new QzoException($"{option} {target}: in use by another qzo command ({Holder(path)}); " +
                                       "wait for it to finish or stop it");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new QzoException($"{option} {target}: cannot write in {System.IO.Path.GetDirectoryName(target)} ({e.Message})");
            }
            string stamp = $"pid {Environment.ProcessId}: {CommandLine()}, since {DateTime.Now:yyyy-MM-dd HH:mm:ss} " +
                           $"[{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}]";
            var bytes = Encoding.UTF8.GetBytes(stamp);
            stream.SetLength(0);
            stream.Write(bytes);
            stream.Flush();
            if (Posix.ReadIgnoringLocks(path) is not { } onDisk || onDisk.AsSpan().SequenceEqual(bytes) || !OperatingSystem.IsLinux())
                return new OutputLock(path, stream);
            stream.Dispose();
        }
        throw new QzoException($"{option} {target}: could not take the lock {path}; another qzo command keeps replacing it");
    }

    static string Holder(string lockFile)
    {
        var bytes = Posix.ReadIgnoringLocks(lockFile);
        string text = bytes is null ? "" : Encoding.UTF8.GetString(bytes).Trim();
        int nonce = text.LastIndexOf(" [", StringComparison.Ordinal);
        return text.Length == 0 ? $"lock file {lockFile}" : nonce > 0 ? text[..nonce] : text;
    }

    static string CommandLine()
    {
        var args = Environment.GetCommandLineArgs();
        string name = System.IO.Path.GetFileNameWithoutExtension(args[0]);
        return string.Join(' ', new[] { name is "Qzo.Cli" or "qzo-device" ? "qzo" : name }.Concat(args.Skip(1)));
    }

    public void Dispose()
    {
        try { File.Delete(Path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        _stream.Dispose();
    }
}
