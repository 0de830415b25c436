using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Qzo.Text;

/// <summary>A tokenizer.json "decoder": HF's decode_chain, token strings in, token strings out; the results are concatenated.</summary>
internal interface IDecoder
{
    List<string> DecodeChain(List<string> tokens);
}

internal static class Decoders
{
    public static IDecoder? Parse(JsonElement? json, string where = "decoder")
    {
        if (json is not { } j) return null;
        string type = j.TypeOf(where);
        return type switch
        {
            "Sequence" => new SequenceDecoder(
                j.RequiredArray("decoders", where).Select((d, i) => Parse(d, $"{where}.decoders[{i}]")!).ToArray()),
            "Replace" => new ReplaceDecoder(j.StringPattern(where), j.RequiredString("content", where)),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(j.RequiredRune("content", where), j.RequiredInt("start", where), j.RequiredInt("stop", where)),
            "ByteLevel" => new ByteLevelDecoder(),
            "Metaspace" => new MetaspaceDecoder(j.RequiredRune("replacement", where), MetaspacePreTokenizer.ParseScheme(j, where)),
            _ => throw new TokenizerFormatException($"{where}: unsupported decoder type \"{type}\""),
        };
    }
}

internal sealed class SequenceDecoder(IDecoder[] steps) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        foreach (var step in steps) tokens = step.DecodeChain(tokens);
        return tokens;
    }
}

internal sealed class ReplaceDecoder(string pattern, string content) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) =>
        pattern.Length == 0 ? tokens : tokens.ConvertAll(t => t.Replace(pattern, content, StringComparison.Ordinal));
}

/// <summary>
/// Runs of &lt;0xNN&gt; tokens become the UTF-8 text they spell; a run that is not valid UTF-8 becomes one U+FFFD
/// per byte token (HF's rule, not the lossy decoder's one-per-invalid-sequence).
/// </summary>
internal sealed class ByteFallbackDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            if (TryParseByteToken(token, out byte b))
            {
                bytes.Add(b);
                continue;
            }
            Flush(bytes, result);
            result.Add(token);
        }
        Flush(bytes, result);
        return result;
    }

    static void Flush(List<byte> bytes, List<string> result)
    {
        if (bytes.Count == 0) return;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        if (Utf8.IsValid(span)) result.Add(Encoding.UTF8.GetString(span));
        else for (int i = 0; i < bytes.Count; i++) result.Add("\uFFFD");
        bytes.Clear();
    }

    /// <summary>HF: a 6-byte token "&lt;0x" + two hex digits (either case) + "&gt;".</summary>
    public static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        if (token.Length != 6 || !token.StartsWith("<0x", StringComparison.Ordinal) || token[5] != '>') return false;
        int hi = HexValue(token[3]), lo = HexValue(token[4]);
        if (hi < 0 || lo < 0) return false;
        value = (byte)(hi * 16 + lo);
        return true;
    }

    static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}

internal sealed class FuseDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing copies of one character from each token.</summary>
internal sealed class StripDecoder(Rune content, int start, int stop) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => tokens.ConvertAll(Strip);

    string Strip(string token)
    {
        int from = 0;
        for (int n = 0; n < start && from < token.Length; n++)
        {
            if (Rune.DecodeFromUtf16(token.AsSpan(from), out var r, out int used) != System.Buffers.OperationStatus.Done
                || r != content) break;
            from += used;
        }
        int to = token.Length;
        for (int n = 0; n < stop && to > from; n++)
        {
            if (Rune.DecodeLastFromUtf16(token.AsSpan(from, to - from), out var r, out int used) != System.Buffers.OperationStatus.Done
                || r != content) break;
            to -= used;
        }
        return token[from..to];
    }
}

/// <summary>
/// HF Metaspace decoder: the replacement becomes a space, except that in the first token (unless the scheme is "never") it is dropped.
/// </summary>
internal sealed class MetaspaceDecoder(Rune replacement, PrependScheme scheme) : IDecoder
{
    readonly string _rep = replacement.ToString();

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
            result.Add(tokens[i].Replace(_rep, i == 0 && scheme != PrependScheme.Never ? "" : " ", StringComparison.Ordinal));
        return result;
    }
}

/// <summary>
/// HF ByteLevel decoder: all tokens' characters back to bytes, decoded as UTF-8 (invalid sequences become U+FFFD).
/// A token with a character outside the byte alphabet (an added token such as "a b") contributes its own UTF-8 bytes.
/// </summary>
internal sealed class ByteLevelDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            int before = bytes.Count;
            bool allMapped = true;
            foreach (char c in token)
            {
                if (!ByteLevelAlphabet.TryGetByte(c, out byte b)) { allMapped = false; break; }
                bytes.Add(b);
            }
            if (allMapped) continue;
            bytes.RemoveRange(before, bytes.Count - before);
            bytes.AddRange(Encoding.UTF8.GetBytes(token));
        }
        return [Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes))];
    }
}
