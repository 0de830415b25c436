using System.Runtime.InteropServices;

namespace Qzo.IO;

/// <summary>
/// The few libc calls .NET does not expose: a file's type and identity (statx, whose layout is the same on every Linux
/// architecture), realpath, fsync of a folder, and reading a file that another process holds an exclusive lock on
/// (.NET's own readers take a shared flock and would fail). Elsewhere than Linux each call reports "unknown".
/// </summary>
public static unsafe partial class Posix
{
    public enum Kind { Missing, Regular, Directory, Fifo, CharacterDevice, BlockDevice, Socket, Symlink, Unknown }

    /// <summary>The file's device and inode: equal for two spellings (links, bind mounts) of one file or folder.</summary>
    public readonly record struct Identity(uint DevMajor, uint DevMinor, ulong Inode);

    const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
    const uint StatxType = 0x1, StatxIno = 0x100;
    const int ModeOffset = 28, InodeOffset = 32, DevMajorOffset = 136, DevMinorOffset = 140, StatxSize = 256;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint RealpathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LinkNative(string existing, string created);

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint Signal(int signal, nint handler);

    static bool Available => OperatingSystem.IsLinux();

    /// <summary>
    /// Makes a write past the file-size limit (ulimit -f) fail with EFBIG, which the writer reports and cleans up after,
    /// instead of SIGXFSZ killing the process with a temporary file left behind.
    /// </summary>
    public static void IgnoreFileSizeLimitSignal()
    {
        const int SigXfsz = 25;
        const nint Ignore = 1;
        if (Available) Signal(SigXfsz, Ignore);
    }

    /// <summary>
    /// Makes <paramref name="created"/> a second name of the file <paramref name="existing"/> (link(2)); false where that
    /// cannot be done (another file system, a file system without hard links, not Linux), and the caller copies instead.
    /// </summary>
    public static bool TryHardLink(string existing, string created) => Available && LinkNative(existing, created) == 0;

    static bool Stat(string path, bool followLinks, byte* buffer) =>
        StatxNative(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxIno, buffer) == 0;

    /// <summary>What is at the path (the link itself when <paramref name="followLinks"/> is false).</summary>
    public static Kind KindOf(string path, bool followLinks = true)
    {
        if (!Available)
            return Directory.Exists(path) ? Kind.Directory : File.Exists(path) ? Kind.Unknown : Kind.Missing;
        byte* buffer = stackalloc byte[StatxSize];
        if (!Stat(path, followLinks, buffer)) return Kind.Missing;
        return (*(ushort*)(buffer + ModeOffset) & 0xF000) switch
        {
            0x8000 => Kind.Regular, 0x4000 => Kind.Directory, 0x1000 => Kind.Fifo, 0x2000 => Kind.CharacterDevice,
            0x6000 => Kind.BlockDevice, 0xC000 => Kind.Socket, 0xA000 => Kind.Symlink, _ => Kind.Unknown,
        };
    }

    /// <summary>Device and inode of an existing path (links followed); null where it is missing or unknown.</summary>
    public static Identity? IdentityOf(string path)
    {
        if (!Available) return null;
        byte* buffer = stackalloc byte[StatxSize];
        if (!Stat(path, followLinks: true, buffer)) return null;
        return new Identity(*(uint*)(buffer + DevMajorOffset), *(uint*)(buffer + DevMinorOffset), *(ulong*)(buffer + InodeOffset));
    }

    /// <summary>The path with every link, "." and ".." resolved; null where it does not exist (or off Linux).</summary>
    public static string? RealPath(string path)
    {
        if (!Available) return null;
        nint resolved = RealpathNative(path, 0);
        if (resolved == 0) return null;
        try { return Marshal.PtrToStringUTF8(resolved); }
        finally { Free(resolved); }
    }

    /// <summary>Flushes a folder's entries (a rename in it) to disk; best effort, as not every file system can.</summary>
    public static void FsyncDirectory(string folder)
    {
        if (!Available) return;
        const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY
        int fd = Open(folder, ReadOnlyDirectory);
        if (fd < 0) return;
        Fsync(fd);
        Close(fd);
    }

    /// <summary>Up to <paramref name="limit"/> bytes of a file, read without taking a lock; null if it cannot be read.</summary>
    public static byte[]? ReadIgnoringLocks(string path, int limit = 4096)
    {
        if (!Available) return null;
        int fd = Open(path, 0);
        if (fd < 0) return null;
        try
        {
            var bytes = new byte[limit];
            fixed (byte* p = bytes)
            {
                nint n = Read(fd, p, limit);
                return n < 0 ? null : bytes[..(int)n];
            }
        }
        finally { Close(fd); }
    }
}
