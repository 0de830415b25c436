using System.Text.Json;

namespace Qzo.Text;

/// <summary>A tokenizer.json "post_processor" for a single sequence: adds special tokens (BOS, EOS) around the ids.</summary>
internal interface IPostProcessor
{
    List<int> Process(List<int> ids, bool addSpecialTokens);

    /// <summary>
    /// How many ids <see cref="Process"/> adds to a single sequence (HF added_tokens(false)); truncation leaves room for them.
    /// </summary>
    int AddedCount { get; }
}

internal static class PostProcessors
{
    public static IPostProcessor? Parse(JsonElement? json, string where = "post_processor")
    {
        if (json is not { } j) return null;
        string type = j.TypeOf(where);
        return type switch
        {
            "TemplateProcessing" => TemplateProcessor.Parse(j, where),
            "Sequence" => new SequencePostProcessor(
                j.RequiredArray("processors", where).Select((p, i) => Parse(p, $"{where}.processors[{i}]")!).ToArray()),
            "RobertaProcessing" or "BertProcessing" => new TemplateProcessor([SpecialIds(j, "cls", where), null,
                SpecialIds(j, "sep", where)]),
            // ByteLevel's post-processing only trims offsets; ids are untouched.
            "ByteLevel" => new SequencePostProcessor([]),
            _ => throw new TokenizerFormatException($"{where}: unsupported post_processor type \"{type}\""),
        };
    }

    /// <summary>RobertaProcessing / BertProcessing name a special token as ["&lt;s&gt;", 0].</summary>
    static int[] SpecialIds(JsonElement j, string name, string where)
    {
        var pair = j.Required(name, where);
        if (pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2 && pair[1].TryGetId(out int id)) return [id];
        throw new TokenizerFormatException($"{where}: \"{name}\" must be [token, id]");
    }
}

internal sealed class SequencePostProcessor(IPostProcessor[] steps) : IPostProcessor
{
    public List<int> Process(List<int> ids, bool addSpecialTokens)
    {
        foreach (var step in steps) ids = step.Process(ids, addSpecialTokens);
        return ids;
    }

    public int AddedCount => steps.Sum(s => s.AddedCount);
}

/// <summary>
/// HF TemplateProcessing, "single" template only: each element is either the sequence ($A) or the ids of a special token.
/// </summary>
internal sealed class TemplateProcessor : IPostProcessor
{
    /// <summary>null = the sequence itself; otherwise the special token's ids.</summary>
    readonly int[]?[] _single;

    public TemplateProcessor(int[]?[] single) => _single = single;

    public static TemplateProcessor Parse(JsonElement j, string where)
    {
        var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (j.Optional("special_tokens") is { ValueKind: JsonValueKind.Object } st)
        {
            foreach (var p in st.EnumerateObject())
            {
                string w = $"{where}.special_tokens[\"{p.Name}\"]";
                specials[p.Name] = p.Value.RequiredArray("ids", w)
                    .Select(e => e.TryGetId(out int id) ? id : throw new TokenizerFormatException(
                    $"{w}: ids must be non-negative integers")).ToArray();
            }
        }
        var single = new List<int[]?>();
        var template = j.Required("single", where);
        var pieces = template.ValueKind switch
        {
            JsonValueKind.Array => template.EnumerateArray().ToList(),
            JsonValueKind.String => template.GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(s => JsonSerializer.SerializeToElement(s)).ToList(),
            _ => throw new TokenizerFormatException($"{where}: \"single\" must be an array"),
        };
        foreach (var piece in pieces)
        {
            var (isSequence, id) = ParsePiece(piece, where);
            if (isSequence)
            {
                if (id != "A") throw new TokenizerFormatException($"{where}: the single template may only use sequence $A");
                single.Add(null);
            }
            else single.Add(specials.TryGetValue(id, out var ids) ? ids
                : throw new TokenizerFormatException($"{where}: special token \"{id}\" is missing from special_tokens"));
        }
        return new TemplateProcessor(single.ToArray());
    }

    /// <summary>
    /// {"Sequence": {"id": "A"}} / {"SpecialToken": {"id": "&lt;s&gt;"}} or the string forms "$A", "$A:0", "&lt;s&gt;:0".
    /// </summary>
    static (bool IsSequence, string Id) ParsePiece(JsonElement piece, string where)
    {
        if (piece.ValueKind == JsonValueKind.String)
        {
            string s = piece.GetString()!;
            int colon = s.LastIndexOf(':');
            if (colon > 0 && int.TryParse(s.AsSpan(colon + 1), out _)) s = s[..colon];
            if (!s.StartsWith('$')) return (false, s);
            string rest = s[1..];
            return (true, rest is "" or "a" or "A" || int.TryParse(rest, out _) ? "A" : rest is "b" or "B" ? "B"
                : throw new TokenizerFormatException($"{where}: bad template piece \"{s}\""));
        }
        if (piece.Optional("Sequence") is { } seq) return (true, seq.RequiredString("id", where));
        if (piece.Optional("SpecialToken") is { } special) return (false, special.RequiredString("id", where));
        throw new TokenizerFormatException($"{where}: template pieces must be Sequence or SpecialToken");
    }

    public int AddedCount => _single.Sum(piece => piece?.Length ?? 0);

    public List<int> Process(List<int> ids, bool addSpecialTokens)
    {
        if (!addSpecialTokens) return ids;
        var result = new List<int>(ids.Count + _single.Length);
        foreach (var piece in _single)
        {
            if (piece is null) result.AddRange(ids);
            else result.AddRange(piece);
        }
        return result;
    }
}
