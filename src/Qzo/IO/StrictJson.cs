using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qzo.IO;

/// <summary>
/// JSON parsed up front with duplicate keys refused: System.Text.Json's JsonObject otherwise accepts them at parse
/// time and throws an ArgumentException when the object is first read, far from the file that caused it.
/// </summary>
public static class StrictJson
{
    static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false };

    /// <param name="where">what the text is, for the message: "config.json", "data.jsonl:3"...</param>
    public static JsonNode? Parse(string text, string where)
    {
        try { return JsonNode.Parse(text, documentOptions: Options); }
        catch (JsonException e) { throw new QzoException($"{where}: not valid JSON ({e.Message})"); }
    }
}
