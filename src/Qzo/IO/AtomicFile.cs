using System.Security.Cryptography;
using System.Text;

namespace Qzo.IO;

/// <summary>
/// Writes a file so that readers see either the old one or the complete new one, never a partial file:
/// the content goes to PATH.tmp-RANDOM in the same folder, is flushed to disk, then renamed over PATH.
/// On failure the temporary file is deleted and PATH is untouched. Renaming also leaves any memory
/// mapping of the old PATH intact, so a file can be rewritten from a mapping of itself.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) =>
        Write(path, stream => stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text)));

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    public static void Write(string path, Action<Stream> writeContent)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new QzoException($"{full}: is a folder; cannot write a file there");
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder)) throw new QzoException($"{full}: folder {folder} does not exist");

        string temp = $"{full}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                writeContent(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
