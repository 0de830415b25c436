using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.Tasks.Data;

namespace Qzo.Tasks.Definitions;

/// <summary>
/// Text with <c>{field}</c> placeholders filled from a row: <c>{premise}</c>, a dotted path <c>{idx.question}</c>,
/// and filters after bars, <c>{question|upper_first|question_mark}</c> (see <see cref="TemplateFilters"/>).
/// <c>{candidate}</c> and <c>{answer}</c> name the candidate or answer being written. <c>{{</c> and <c>}}</c> are literal braces.
/// </summary>
public sealed class PromptTemplate
{
    abstract record Part;
    sealed record Literal(string Text) : Part;
    sealed record Placeholder(string Path, IReadOnlyList<TemplateFilters.Filter> Filters) : Part;

    readonly IReadOnlyList<Part> _parts;

    PromptTemplate(string text, IReadOnlyList<Part> parts) { Text = text; _parts = parts; }

    public string Text { get; }

    /// <summary>The row fields the template reads (not candidate/answer).</summary>
    public IEnumerable<string> Fields => _parts.OfType<Placeholder>().Select(p => p.Path).Where(p => p is not ("candidate" or "answer"));

    /// <param name="error">turns a problem into an exception that names where the template came from.</param>
    public static PromptTemplate Parse(string text, Func<string, Exception> error)
    {
        var parts = new List<Part>();
        var literal = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if ((c == '{' || c == '}') && i + 1 < text.Length && text[i + 1] == c) { literal.Append(c); i++; continue; }
            if (c == '}') throw error($"has an unmatched '}}' at character {i} (write '}}}}' for a literal brace)");
            if (c != '{') { literal.Append(c); continue; }
            int close = text.IndexOf('}', i + 1);
            if (close < 0) throw error($"has an unclosed '{{' at character {i}");
            var pieces = text[(i + 1)..close].Split('|');
            string path = pieces[0].Trim();
            if (path.Length == 0) throw error($"has an empty placeholder at character {i}");
            if (literal.Length > 0) { parts.Add(new Literal(literal.ToString())); literal.Clear(); }
            parts.Add(new Placeholder(path, pieces.Skip(1).Select(f => TemplateFilters.Parse(f, error)).ToList()));
            i = close;
        }
        if (literal.Length > 0) parts.Add(new Literal(literal.ToString()));
        return new PromptTemplate(text, parts);
    }

    public string Render(TaskRow row, string? candidate = null, string? answer = null)
    {
        var result = new StringBuilder();
        foreach (var part in _parts)
        {
            if (part is Literal l) { result.Append(l.Text); continue; }
            var p = (Placeholder)part;
            string value = p.Path switch
            {
                "candidate" when candidate is not null => candidate,
                "answer" when answer is not null => answer,
                _ => Field(row, p.Path),
            };
            foreach (var filter in p.Filters)
            {
                try { value = filter.Apply(value, candidate); }
                catch (QzoException e) { throw row.Error(p.Path, e.Message); }
            }
            result.Append(value);
        }
        return result.ToString();
    }

    static string Field(TaskRow row, string path)
    {
        if (!row.Has(path)) throw row.Error(path, "missing (the task's template needs it)");
        var node = row.Get(path);
        return node switch
        {
            null => throw row.Error(path, "is null"),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            JsonValue v => v.ToJsonString(),
            _ => throw row.Error(path, $"is {node.GetValueKind().ToString().ToLowerInvariant()}, not text"),
        };
    }

    public override string ToString() => Text;
}
