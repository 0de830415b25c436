using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Text;

/// <summary>
/// What the tokenizer synthesizers share: JSON files as transformers' save_pretrained writes them (json.dumps with
/// indent=2, sort_keys=True, ensure_ascii=False) and the token objects of tokenizer_config.json and special_tokens_map.json.
/// </summary>
internal static class TokenizerFiles
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes <paramref name="json"/> indented, with a final newline, its keys sorted at every level unless
    /// <paramref name="sortKeys"/> is false (tokenizer.json keeps the tokenizers library's field order).
    /// </summary>
    public static void Write(string path, JsonObject json, bool sortKeys = true) =>
        AtomicFile.WriteAllText(path, (sortKeys ? Sorted(json)! : json).ToJsonString(Options) + "\n");

    /// <summary>Compact JSON text of one value with the same escaping (vocab.json).</summary>
    public static JsonWriterOptions CompactWriter => new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                                       .Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };

    /// <summary>An entry of added_tokens_decoder (special: true) or, without "special", of special_tokens_map.json.</summary>
    public static JsonObject Token(string content, bool normalized, bool? special = true)
    {
        var token = new JsonObject
        {
            ["content"] = content, ["lstrip"] = false, ["normalized"] = normalized, ["rstrip"] = false, ["single_word"] = false,
        };
        if (special is bool s) token["special"] = s;
        return token;
    }
}
