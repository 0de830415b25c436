using System.Security.Cryptography;
using System.Text;

namespace Qzo.IO;

/// <summary>
/// Writes a file so that readers see either the old one or the complete new one, never a partial file:
/// the content goes to PATH.tmp-RANDOM in the same folder, is flushed to disk, then renamed over PATH, and the folder
/// is flushed too. On failure the temporary file is deleted and PATH is untouched. Renaming also leaves any memory
/// mapping of the old PATH intact, so a file can be rewritten from a mapping of itself.
/// A symlink is written through (its target is replaced, the link stays); a FIFO, a device or a socket is written
/// into directly, since renaming over it would replace it with a regular file.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) =>
        Write(path, stream => stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text)));

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    public static void Write(string path, Action<Stream> writeContent)
    {
        string full = PathRelation.Canonical(path);
        switch (Posix.KindOf(full))
        {
            case Posix.Kind.Directory:
                throw new QzoException($"{full}: is a folder; cannot write a file there");
            case Posix.Kind.Fifo or Posix.Kind.CharacterDevice or Posix.Kind.BlockDevice or Posix.Kind.Socket:
                WriteInto(full, writeContent);
                return;
        }
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder)) throw new QzoException($"{full}: folder {folder} does not exist");

        string temp = $"{full}{InterruptedWrites.TemporaryMarker}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                writeContent(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            Posix.FsyncDirectory(folder);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            if (IoFailure.Is(e)) throw IoFailure.Writing(full, e);
            throw;
        }
    }

    static void WriteInto(string special, Action<Stream> writeContent)
    {
        try
        {
            using var stream = new FileStream(special, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
            writeContent(stream);
            stream.Flush();
        }
        catch (Exception e) when (IoFailure.Is(e))
        {
            throw IoFailure.Writing(special, e);
        }
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (IoFailure.Is(e)) { }
    }
}
