namespace Qzo.IO;

/// <summary>One line for a failed read or write of a file, naming it and saying why in words (a full disk, a size limit).</summary>
public static class IoFailure
{
    const int NoSpace = 28, FileTooLarge = 27, ReadOnlyFileSystem = 30, QuotaExceeded = 122;

    /// <summary>
    /// A failed read or write of a file, as .NET reports it (EFBIG comes as an ArgumentOutOfRangeException from System.IO).
    /// </summary>
    public static bool Is(Exception e) => e is IOException or UnauthorizedAccessException || IsFileTooLarge(e);

    static bool IsFileTooLarge(Exception e) =>
        e is ArgumentOutOfRangeException && e.TargetSite?.DeclaringType?.Namespace == "System.IO";

    public static QzoException Writing(string path, Exception e) => new($"{path}: could not be written: {Reason(e)}");

    /// <summary>An I/O error that no caller named a file for: the reason in words, with the system's message (which names it).</summary>
    public static string Describe(Exception e) => Reason(e) is var reason && reason != e.Message ? $"{reason} ({e.Message})" : e.Message;

    public static string Reason(Exception e) => IsFileTooLarge(e) ? Reason(new IOException(e.Message, FileTooLarge)) : e.HResult switch
    {
        NoSpace => "no space left on the device (the disk is full)",
        FileTooLarge => "the file exceeds the largest size allowed (ulimit -f, or the file system's limit)",
        ReadOnlyFileSystem => "the file system is read-only",
        QuotaExceeded => "the disk quota is exceeded",
        _ => e is UnauthorizedAccessException ? "permission denied" : e.Message,
    };
}
