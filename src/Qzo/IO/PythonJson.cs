using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.Quantization.Bnb;

namespace Qzo.IO;

/// <summary>
/// <c>json.dumps(value, indent=2, sort_keys=True) + "\n"</c>: how diffusers' and transformers' to_json_file write a
/// config.json. Keys sorted by code point at every depth, strings as Python escapes them, numbers read from a file
/// kept as written (6.0 stays 6.0), numbers made in C# as Python prints them.
/// </summary>
public static class PythonJson
{
    public static string Dumps(JsonNode? node)
    {
        var sb = new StringBuilder();
        Append(sb, node, 0);
        return sb.Append('\n').ToString();
    }

    static void Append(StringBuilder sb, JsonNode? node, int depth)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject o:
                var members = o.OrderBy(p => p.Key, Utf8Ordinal.Comparer).Select(p => ((string?)p.Key, p.Value)).ToList();
                AppendItems(sb, '{', '}', depth, members);
                break;
            case JsonArray a:
                AppendItems(sb, '[', ']', depth, a.Select(v => ((string?)null, v)).ToList());
                break;
            case JsonValue v:
                AppendValue(sb, v);
                break;
        }
    }

    static void AppendItems(StringBuilder sb, char open, char close, int depth, List<(string? Key, JsonNode? Value)> items)
    {
        sb.Append(open);
        if (items.Count == 0) { sb.Append(close); return; }
        for (int i = 0; i < items.Count; i++)
        {
            sb.Append(i == 0 ? "\n" : ",\n").Append(' ', 2 * (depth + 1));
            if (items[i].Key is string key)
            {
                JsonStrings.AppendPython(sb, key);
                sb.Append(": ");
            }
            Append(sb, items[i].Value, depth + 1);
        }
        sb.Append('\n').Append(' ', 2 * depth).Append(close);
    }

    static void AppendValue(StringBuilder sb, JsonValue v)
    {
        if (v.TryGetValue(out JsonElement element))
        {
            if (element.ValueKind == JsonValueKind.String) JsonStrings.AppendPython(sb, element.GetString()!);
            else sb.Append(element.GetRawText());
            return;
        }
        switch (v.GetValueKind())
        {
            case JsonValueKind.String: JsonStrings.AppendPython(sb, v.GetValue<string>()); break;
            case JsonValueKind.True: sb.Append("true"); break;
            case JsonValueKind.False: sb.Append("false"); break;
            case JsonValueKind.Number:
                if (v.TryGetValue(out double d)) sb.Append(PythonFloat.Repr(d));
                else if (v.TryGetValue(out float f)) sb.Append(PythonFloat.Repr(f));
                else sb.Append(v.ToJsonString()); // an integer type
                break;
            default: sb.Append(v.ToJsonString()); break;
        }
    }
}
