using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qzo.IO;

/// <summary>
/// The one reader of JSONL files: lines split on '\n' (a trailing '\r' dropped) and each decoded as strict UTF-8,
/// so an invalid byte is refused with the file and line it is on, as Python's reader does, rather than replaced.
/// </summary>
public static class JsonlFile
{
    /// <summary>Every line with its 1-based number, blank ones included.</summary>
    /// <param name="kind">what the file is, for the message ("data file", "prompts file"...)</param>
    public static IEnumerable<(int Line, string Text)> ReadLines(string path, string kind = "file")
    {
        using var stream = TextFiles.OpenRead(path, kind);
        var line = new ArrayBufferWriter<byte>();
        var buffer = new byte[1 << 16];
        int number = 0, read;
        while ((read = Read(stream, buffer, path, kind)) > 0)
        {
            int start = 0, newline;
            while ((newline = Array.IndexOf(buffer, (byte)'\n', start, read - start)) >= 0)
            {
                line.Write(buffer.AsSpan(start, newline - start));
                start = newline + 1;
                yield return (++number, Decode(line, path, number));
                line.ResetWrittenCount();
            }
            line.Write(buffer.AsSpan(start, read - start));
        }
        if (line.WrittenCount > 0) yield return (++number, Decode(line, path, number));
    }

    /// <summary>The non-blank lines as JSON objects; anything else is refused with the file and line.</summary>
    public static IEnumerable<(int Line, JsonObject Row)> ReadObjects(string path, string kind = "file")
    {
        foreach (var (number, text) in ReadLines(path, kind))
        {
            if (string.IsNullOrWhiteSpace(text)) continue;
            yield return (number, StrictJson.Parse(text, $"{path}:{number}") as JsonObject
                                  ?? throw new QzoException($"{path}:{number}: the row is not a JSON object"));
        }
    }

    static int Read(Stream stream, byte[] buffer, string path, string kind)
    {
        try { return stream.Read(buffer); }
        catch (IOException e) { throw new QzoException($"{path}: cannot read the {kind} ({e.Message})"); }
    }

    static string Decode(ArrayBufferWriter<byte> line, string path, int number)
    {
        var bytes = line.WrittenSpan;
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r') bytes = bytes[..^1];
        return StrictUtf8.TryDecode(bytes, out _)
               ?? throw new QzoException($"{path}:{number}: not valid UTF-8 (JSON must be UTF-8)");
    }
}
