namespace Qzo.IO;

/// <summary>Opening a user's input file, with one-line errors for a missing file, a folder, or one that cannot be read.</summary>
public static class TextFiles
{
    /// <param name="kind">what the file is, for the message ("data file", "prompts file"...)</param>
    public static FileStream OpenRead(string path, string kind = "file")
    {
        if (Directory.Exists(path)) throw new QzoException($"{path}: is a folder; expected a {kind}");
        if (!File.Exists(path)) throw new QzoException($"{path}: {kind} not found");
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { throw new QzoException($"{path}: cannot read the {kind} ({e.Message})"); }
    }

    public static byte[] ReadAllBytes(string path, string kind = "file")
    {
        using var stream = OpenRead(path, kind);
        try
        {
            var bytes = new MemoryStream();
            stream.CopyTo(bytes);
            return bytes.ToArray();
        }
        catch (IOException e) { throw new QzoException($"{path}: cannot read the {kind} ({e.Message})"); }
    }
}
