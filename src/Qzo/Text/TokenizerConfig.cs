using System.Text.Json;

namespace Qzo.Text;

/// <summary>The parts of transformers' tokenizer_config.json that change ids: special token names and add_bos/add_eos.</summary>
internal sealed record TokenizerConfig(string? TokenizerClass, bool? AddBosToken, bool? AddEosToken,
    string? BosToken, string? EosToken, string? UnkToken, string? PadToken)
{
    static readonly HashSet<string> LlamaClasses = ["LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast"];

    public static TokenizerConfig Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException("the top level must be an object");
        return new TokenizerConfig(root.OptionalString("tokenizer_class", "tokenizer_config"),
            root.Optional("add_bos_token") is null ? null : root.OptionalBool("add_bos_token", true, "tokenizer_config"),
            root.Optional("add_eos_token") is null ? null : root.OptionalBool("add_eos_token", false, "tokenizer_config"),
            SpecialToken(root, "bos_token"), SpecialToken(root, "eos_token"), SpecialToken(root, "unk_token"), SpecialToken(root, "pad_token"));
    }

    /// <summary>
    /// A special token is written as a string or as an AddedToken object {"content": ...}. An explicit null means
    /// "none" (""), an absent key means "not said" (null), so the caller may fall back to the usual name.
    /// </summary>
    static string? SpecialToken(JsonElement root, string name) => root.Optional(name) switch
    {
        null => root.TryGetProperty(name, out _) ? "" : null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Object } o => o.RequiredString("content", name),
        _ => throw new TokenizerFormatException($"\"{name}\" must be a string or an object with \"content\""),
    };

    /// <summary>
    /// transformers' LlamaTokenizerFast rebuilds the post-processor from add_bos_token (default true) and add_eos_token
    /// (default false) whatever tokenizer.json says (update_post_processor); other classes keep tokenizer.json's.
    /// </summary>
    public bool OverridesPostProcessor => TokenizerClass is not null && LlamaClasses.Contains(TokenizerClass);
}
