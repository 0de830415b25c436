using System.Text.Json.Nodes;

namespace Qzo.Tasks;

/// <summary>
/// How a `{"text": ..., "label": ...}` row becomes candidates: the template with `{field}` placeholders
/// filled from the row, followed by each label's verbalizer (e.g. "{text} It was" + " great").
/// </summary>
public sealed record ClassificationFormat(string Template, IReadOnlyList<KeyValuePair<string, string>> Verbalizers)
{
    /// <summary>Parses `--verbalizers '{"0": " terrible", "1": " great"}'`.</summary>
    public static ClassificationFormat Parse(string template, string verbalizersJson)
    {
        JsonObject obj;
        try { obj = JsonNode.Parse(verbalizersJson, documentOptions: new() { AllowDuplicateProperties = false }) as JsonObject
            ?? throw new FormatException(); }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            throw new QzoException(
                $"--verbalizers must be a JSON object mapping each label to its answer text, e.g. '{{\"0\": \" terrible\", \"1\": \" " +
                $"great\"}}'; got {verbalizersJson}");
        }
        var pairs = obj.Select(kv => new KeyValuePair<string, string>(kv.Key,
            kv.Value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? kv.Value.GetValue<string>()
            : throw new QzoException($"--verbalizers: the answer for label '{kv.Key}' must be a string"))).ToList();
        if (pairs.Count < 2) throw new QzoException("--verbalizers needs at least two labels");
        if (!template.Contains('{')) throw new QzoException(
            $"--template must name at least one field of the data in braces, e.g. \"{{text}} It was\"; got \"{template}\"");
        return new ClassificationFormat(template, pairs);
    }

    public string Prompt(JsonObject row, Func<string, Exception> error)
    {
        var result = new System.Text.StringBuilder();
        int i = 0;
        while (i < Template.Length)
        {
            int open = Template.IndexOf('{', i);
            if (open < 0) { result.Append(Template, i, Template.Length - i); break; }
            int close = Template.IndexOf('}', open);
            if (close < 0) { result.Append(Template, i, Template.Length - i); break; }
            result.Append(Template, i, open - i);
            string field = Template.Substring(open + 1, close - open - 1);
            if (!row.TryGetPropertyValue(field, out var value) || value is null) throw error(
                $"has no field '{field}' (named in --template)");
            result.Append(value.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString());
            i = close + 1;
        }
        return result.ToString();
    }

    public int LabelIndex(JsonNode label, Func<string, Exception> error)
    {
        string key = label.GetValueKind() == System.Text.Json.JsonValueKind.String ? label.GetValue<string>() : label.ToJsonString();
        int index = Verbalizers.ToList().FindIndex(kv => kv.Key == key);
        return index >= 0 ? index
            : throw error(
            $"has label {label.ToJsonString()}, which --verbalizers does not name (known: " +
            $"{string.Join(", ", Verbalizers.Select(v => v.Key))})");
    }
}
