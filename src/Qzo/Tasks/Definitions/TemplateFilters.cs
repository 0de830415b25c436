namespace Qzo.Tasks.Definitions;

/// <summary>
/// The transformations MeZO's templates apply to fields (large_models/templates.py), by name:
/// <list type="bullet">
/// <item><c>lower</c>: lower-case (WSC's pronoun);</item>
/// <item><c>upper_first</c>: first character upper-cased (BoolQ's question);</item>
/// <item><c>question_mark</c>: append "?" unless the text ends with one (BoolQ);</item>
/// <item><c>strip_period</c>: trailing spaces, then one final ".", removed (COPA's premise);</item>
/// <item><c>decapitalize</c>: first character lower-cased unless the first word is "I" (COPA's choices);</item>
/// <item><c>highlights</c>: "@highlight\n" becomes "- " (ReCoRD's passage);</item>
/// <item><c>placeholder</c>: "@placeholder" becomes the candidate (ReCoRD's query);</item>
/// <item><c>strip</c>: surrounding whitespace removed;</item>
/// <item><c>map:key=value,key=value</c>: the value for the field's text (COPA: <c>map:cause= because,effect= so</c>).</item>
/// </list>
/// </summary>
public static class TemplateFilters
{
    public sealed record Filter(string Name, Func<string, string?, string> Apply);

    public static readonly IReadOnlyList<string> Names =
        ["lower", "upper_first", "question_mark", "strip_period", "decapitalize", "highlights", "placeholder", "strip", "map:..."];

    public static Filter Parse(string spec, Func<string, Exception> error)
    {
        string name = spec.Trim();
        if (name.StartsWith("map:", StringComparison.Ordinal)) return Map(spec[(spec.IndexOf(':') + 1)..], error);
        Func<string, string?, string> apply = name switch
        {
            "lower" => (s, _) => s.ToLowerInvariant(),
            "upper_first" => (s, _) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..],
            "question_mark" => (s, _) => s.EndsWith('?') ? s : s + "?",
            "strip_period" => (s, _) => { s = s.TrimEnd(); return s.EndsWith('.') ? s[..^1] : s; },
            "decapitalize" => (s, _) => s.Length == 0 || s.Split(' ')[0] == "I" ? s : char.ToLowerInvariant(s[0]) + s[1..],
            "highlights" => (s, _) => s.Replace("@highlight\n", "- ", StringComparison.Ordinal),
            "placeholder" => (s, candidate) => s.Replace("@placeholder",
                candidate ?? throw new QzoException("the 'placeholder' filter needs a candidate; use it in candidate_template"),
                StringComparison.Ordinal),
            "strip" => (s, _) => s.Trim(),
            _ => throw error($"uses an unknown filter '{name}' (known: {string.Join(", ", Names)})"),
        };
        return new Filter(name, apply);
    }

    static Filter Map(string pairs, Func<string, Exception> error)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs.Split(','))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0) throw error($"has a map filter entry '{pair}' that is not key=value");
            map[pair[..eq].Trim()] = pair[(eq + 1)..];
        }
        return new Filter("map:" + pairs, (s, _) => map.TryGetValue(s, out var v) ? v
            : throw new QzoException($"the value '{s}' is not in the template's map (known: {string.Join(", ", map.Keys)})"));
    }
}
