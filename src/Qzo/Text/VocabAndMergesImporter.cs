using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// Builds a byte-level BPE tokenizer from the classic vocab.json + merges.txt pair, as transformers' GPT2Tokenizer
/// (also OPT's class), Qwen2Tokenizer and CLIPTokenizer do: GPT-2 → ByteLevel pre-tokenizer with the GPT-2 regex
/// (add_prefix_space from the config, default false); Qwen2 → NFC, the Qwen2 regex, ByteLevel without its own regex;
/// CLIP → <see cref="ClipTokenizerClass"/>.
/// Special tokens named in the config (GPT-2's default "&lt;|endoftext|&gt;") and added_tokens_decoder are added tokens;
/// BOS/EOS come from add_bos_token / add_eos_token (default false; OPT's config sets add_bos_token with bos "&lt;/s&gt;").
/// </summary>
internal static class VocabAndMergesImporter
{
    public const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static Dictionary<string, int> ParseVocab(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException("must be an object {token: id}");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in root.EnumerateObject())
        {
            if (!p.Value.TryGetId(out int id))
                throw new TokenizerFormatException($"\"{p.Name}\": id must be a non-negative integer");
            vocab[p.Name] = id;
        }
        return vocab;
    }

    /// <summary>
    /// One "left right" pair per line; a "#version" line and blank lines are skipped (as HF's BPE::read_file does the former).
    /// </summary>
    public static List<(string Left, string Right)> ParseMerges(IEnumerable<string> lines)
    {
        var merges = new List<(string, string)>();
        int lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new TokenizerFormatException($"line {lineNumber}: \"{line}\" is not two tokens separated by one space");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    /// <summary>The config's class: GPT-2's when none is named, Qwen2's or CLIP's; other classes are refused.</summary>
    public static TokenizerClassKind ClassOf(TokenizerConfig? config) => config?.TokenizerClass is null ? TokenizerClassKind.Gpt2
        : config.Kind switch
        {
            TokenizerClassKind.Gpt2 or TokenizerClassKind.Qwen2 or TokenizerClassKind.Clip => config.Kind,
            _ => throw new TokenizerFormatException(
                $"tokenizer_class \"{config.TokenizerClass}\" with vocab.json + merges.txt is not supported (only GPT2Tokenizer, as " +
                "OPT uses, Qwen2Tokenizer and CLIPTokenizer)"),
        };

    public static (Tokenizer, TokenizerDefaults) Build(Dictionary<string, int> vocab, List<(string Left, string Right)> merges,
        TokenizerConfig? config, TokenizerClassKind kind)
    {
        if (kind == TokenizerClassKind.Clip) return ClipTokenizerClass.Build(vocab, merges, [], config);
        bool qwen2 = kind == TokenizerClassKind.Qwen2;
        var names = TokenizerClasses.DefaultSpecialTokens(kind);
        var added = new List<AddedToken>(config?.AddedTokensDecoder ?? []);
        TokenizerClasses.AddNamedSpecialTokens(added,
            [config?.BosToken ?? names.Bos, config?.EosToken ?? names.Eos, config?.UnkToken ?? names.Unk, config?.PadToken ?? names.Pad],
            t => vocab.TryGetValue(t, out int id) ? id : null);

        var model = TokenizerClasses.ByteLevelModel(vocab, merges).Build();
        INormalizer? normalizer = qwen2 ? TokenizerClasses.Qwen2Normalizer() : null;
        IPreTokenizer preTokenizer = qwen2 ? TokenizerClasses.Qwen2PreTokenizer(config) : TokenizerClasses.Gpt2PreTokenizer(config);
        var tokenizer = new Tokenizer(new AddedVocabulary(added, normalizer), normalizer, preTokenizer, model, postProcessor: null,
            new ByteLevelDecoder());
        return (tokenizer, new TokenizerDefaults(names.Unk, names.Bos, names.Eos, names.Pad, PostProcessorFromFlags: true));
    }
}
