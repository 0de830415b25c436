using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// The parts of transformers' tokenizer_config.json that change ids: the class, special token names,
/// add_bos/add_eos, added_tokens_decoder, and the class options legacy (Llama) and add_prefix_space (Llama, GPT-2, Qwen2).
/// </summary>
internal sealed record TokenizerConfig(string? TokenizerClass, bool? AddBosToken, bool? AddEosToken,
    string? BosToken, string? EosToken, string? UnkToken, string? PadToken)
{
    public TokenizerClassKind Kind => TokenizerClasses.Kind(TokenizerClass);

    public IReadOnlyList<AddedToken> AddedTokensDecoder { get; init; } = [];
    public bool? Legacy { get; init; }
    public bool? AddPrefixSpace { get; init; }
    /// <summary>Whether decode removes the space before punctuation and contractions (not for BPE models in transformers 5).</summary>
    public bool? CleanUpTokenizationSpaces { get; init; }
    /// <summary>T5Tokenizer's count of &lt;extra_id_N&gt; sentinels (default 100).</summary>
    public int? ExtraIds { get; init; }
    /// <summary>additional_special_tokens (transformers 5 also reads extra_special_tokens), by content.</summary>
    public IReadOnlyList<string> AdditionalSpecialTokens { get; init; } = [];

    public static TokenizerConfig Parse(JsonElement root)
    {
        const string where = "tokenizer_config";
        if (root.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException("the top level must be an object");
        return new TokenizerConfig(root.OptionalString("tokenizer_class", where),
            OptionalBool(root, "add_bos_token"), OptionalBool(root, "add_eos_token"),
            SpecialToken(root, "bos_token"), SpecialToken(root, "eos_token"), SpecialToken(root, "unk_token"),
                SpecialToken(root, "pad_token"))
        {
            AddedTokensDecoder = ParseAddedTokensDecoder(root.Optional("added_tokens_decoder")),
            Legacy = OptionalBool(root, "legacy"),
            AddPrefixSpace = OptionalBool(root, "add_prefix_space"),
            CleanUpTokenizationSpaces = OptionalBool(root, "clean_up_tokenization_spaces"),
            ExtraIds = root.Optional("extra_ids") is null ? null : root.RequiredInt("extra_ids", where),
            AdditionalSpecialTokens = [.. TokenList(root, "additional_special_tokens"), .. TokenList(root, "extra_special_tokens")],
        };
    }

    /// <summary>A list of special tokens, each a string or {"content": ...}; a {name: token} object gives its values.</summary>
    static IEnumerable<string> TokenList(JsonElement root, string name)
    {
        if (root.Optional(name) is not { } list) return [];
        var items = list.ValueKind switch
        {
            JsonValueKind.Array => list.EnumerateArray().ToList(),
            JsonValueKind.Object => list.EnumerateObject().Select(p => p.Value).ToList(),
            _ => throw new TokenizerFormatException($"\"{name}\" must be a list of tokens"),
        };
        return items.Select(t => t.ValueKind switch
        {
            JsonValueKind.String => t.GetString()!,
            JsonValueKind.Object => t.RequiredString("content", name),
            _ => throw new TokenizerFormatException($"\"{name}\": each token must be a string or an object with \"content\""),
        }).ToList();
    }

    static bool? OptionalBool(JsonElement root, string name) =>
        root.Optional(name) is null ? null : root.OptionalBool(name, false, "tokenizer_config");

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

    /// <summary>{"id": {"content", "lstrip", "rstrip", "normalized", "single_word", "special"}, ...}</summary>
    static List<AddedToken> ParseAddedTokensDecoder(JsonElement? json)
    {
        var list = new List<AddedToken>();
        if (json is not { } j) return list;
        if (j.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException("\"added_tokens_decoder\" must be an object");
        foreach (var p in j.EnumerateObject())
        {
            string w = $"added_tokens_decoder[\"{p.Name}\"]";
            if (!int.TryParse(p.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture,
                out int id))
                throw new TokenizerFormatException($"{w}: the key must be a token id");
            bool special = p.Value.OptionalBool("special", false, w);
            list.Add(new AddedToken(id, p.Value.RequiredString("content", w), p.Value.OptionalBool("single_word", false, w),
                p.Value.OptionalBool("lstrip", false, w), p.Value.OptionalBool("rstrip", false, w),
                    p.Value.OptionalBool("normalized", !special, w), special));
        }
        return list;
    }
}

/// <summary>What a tokenizer's source and class imply where tokenizer_config.json is silent.</summary>
/// <param name="PostProcessorFromFlags">BOS/EOS come from add_bos_token / add_eos_token (default false), as transformers 5
/// builds them when the source has no post-processor of its own (tokenizer.model, vocab.json + merges.txt). With
/// tokenizer.json, transformers drops those two keys and keeps the file's post-processor.</param>
internal sealed record TokenizerDefaults(string? UnkToken, string? BosToken, string? EosToken, string? PadToken,
    bool PostProcessorFromFlags);
