using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Qzo.Tasks.Definitions;

/// <summary>
/// A YAML document as JSON (YAML 1.2 core schema): plain scalars that read as null, a boolean, an integer or a
/// float become those; quoted scalars and everything else stay strings.
/// </summary>
public static class YamlToJson
{
    /// <summary>Nodes one document may expand to: aliases repeat their anchor's nodes, so a few lines could otherwise
    /// expand exponentially ("billion laughs"); a task definition has a few hundred.</summary>
    const int MaxNodes = 100_000;

    public static JsonNode? Convert(string yaml, string source)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlException e)
            { throw new QzoException($"{source}: not valid YAML (line {e.Start.Line}, column {e.Start.Column}: {e.Message})"); }
        return stream.Documents.Count == 0 ? null : new Converter(source).Node(stream.Documents[0].RootNode);
    }

    /// <summary>
    /// YamlDotNet resolves an alias to its anchor's node object, so an alias inside its own anchor (<c>&amp;a [*a]</c>)
    /// makes a cycle; the nodes on the current path are tracked to refuse it instead of recursing forever.
    /// </summary>
    sealed class Converter(string source)
    {
        readonly HashSet<YamlNode> _open = new(ReferenceEqualityComparer.Instance);
        int _nodes;

        public JsonNode? Node(YamlNode node)
        {
            if (++_nodes > MaxNodes) throw new QzoException(
                $"{source}: line {node.Start.Line}: the document expands to more than {MaxNodes:N0} values (aliases repeated?)");
            if (!_open.Add(node)) throw new QzoException(
                $"{source}: line {node.Start.Line}: a YAML alias refers to a node that contains it");
            try
            {
                return node switch
                {
                    YamlMappingNode map => Mapping(map),
                    YamlSequenceNode seq => new JsonArray(seq.Children.Select(Node).ToArray()),
                    YamlScalarNode scalar => Scalar(scalar),
                    _ => throw new QzoException($"{source}: line {node.Start.Line}: YAML aliases and other node kinds are not supported"),
                };
            }
            finally { _open.Remove(node); }
        }

        JsonObject Mapping(YamlMappingNode map)
        {
            var obj = new JsonObject();
            foreach (var (key, value) in map.Children)
            {
                string name = key is YamlScalarNode k ? k.Value ?? ""
                    : throw new QzoException($"{source}: line {key.Start.Line}: keys must be plain text");
                if (obj.ContainsKey(name)) throw new QzoException($"{source}: line {key.Start.Line}: key '{name}' appears twice");
                obj[name] = Node(value);
            }
            return obj;
        }
    }

    static JsonNode? Scalar(YamlScalarNode scalar)
    {
        string text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(text);
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return JsonValue.Create(true);
            case "false" or "False" or "FALSE": return JsonValue.Create(false);
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return JsonValue.Create(l);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
            && text.Any(char.IsDigit)) return JsonValue.Create(d);
        return JsonValue.Create(text);
    }
}
