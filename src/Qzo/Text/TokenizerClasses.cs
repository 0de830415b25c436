namespace Qzo.Text;

/// <summary>The transformers 5 tokenizer classes whose pipelines differ from what the files say.</summary>
internal enum TokenizerClassKind
{
    /// <summary>TokenizersBackend (PreTrainedTokenizerFast, no class, or a class Qzo does not model): tokenizer.json as written.</summary>
    Backend,
    Llama,
    Gpt2,
    Qwen2,
    Gemma,
    /// <summary>CLIPTokenizer (Stable Diffusion's tokenizer/ and tokenizer_2/): <see cref="ClipTokenizerClass"/>.</summary>
    Clip,
    /// <summary>T5Tokenizer (T5TokenizerFast is the same class in transformers 5): <see cref="T5TokenizerClass"/>.</summary>
    T5,
}

/// <summary>
/// What transformers 5's model-specific tokenizer classes build in their constructors. AutoTokenizer picks the class
/// named by tokenizer_config.json's "tokenizer_class" ("Fast" dropped: LlamaTokenizerFast is LlamaTokenizer); such a
/// class takes only the vocabulary, the merges and the added tokens from tokenizer.json or tokenizer.model and builds
/// its own model options, normalizer, pre-tokenizer and decoder. tests/Qzo.Tests/Text/HfTokenizerOracleTests.cs
/// describes each class.
/// </summary>
internal static class TokenizerClasses
{
    public const string Space = "\u2581";

    public static TokenizerClassKind Kind(string? tokenizerClass)
    {
        string? name = tokenizerClass is not null && tokenizerClass.EndsWith("Fast", StringComparison.Ordinal) ? tokenizerClass[..^4]
            : tokenizerClass;
        return name switch
        {
            "LlamaTokenizer" => TokenizerClassKind.Llama,
            "GPT2Tokenizer" => TokenizerClassKind.Gpt2,
            "Qwen2Tokenizer" => TokenizerClassKind.Qwen2,
            "GemmaTokenizer" => TokenizerClassKind.Gemma,
            "CLIPTokenizer" => TokenizerClassKind.Clip,
            "T5Tokenizer" => TokenizerClassKind.T5,
            _ => TokenizerClassKind.Backend,
        };
    }

    /// <summary>
    /// LlamaTokenizer: BPE(fuse_unk, byte_fallback), no unk token in the model (a character with no piece and no byte pieces is dropped).
    /// </summary>
    public static BpeSpec LlamaModel(Dictionary<string, int> vocab, IReadOnlyList<(string, string)> merges) =>
        new(vocab, merges, UnkToken: null, FuseUnk: true, ByteFallback: true, IgnoreMerges: false, ContinuingSubwordPrefix: null,
            EndOfWordSuffix: null);

    /// <summary>
    /// LlamaTokenizer: no normalizer; Metaspace("▁", split: false) whose prepend_scheme is "always" with legacy: true,
    /// "first" with legacy: false (the default), "never" with add_prefix_space: false (default true). Metaspace adds no
    /// "▁" to a piece that already starts with one, so " Hello" is "▁Hello", not SentencePiece's "▁▁Hello".
    /// </summary>
    public static IPreTokenizer LlamaPreTokenizer(TokenizerConfig? config)
    {
        var scheme = !(config?.AddPrefixSpace ?? true) ? PrependScheme.Never
            : config?.Legacy ?? false ? PrependScheme.Always : PrependScheme.First;
        return new MetaspacePreTokenizer(new System.Text.Rune(Space[0]), scheme, split: false);
    }

    /// <summary>LlamaTokenizer: "▁" → " ", byte fallback, fuse, and with add_prefix_space one leading space stripped.</summary>
    public static IDecoder LlamaDecoder(TokenizerConfig? config)
    {
        var steps = new List<IDecoder> { new ReplaceDecoder(Space, " "), new ByteFallbackDecoder(), new FuseDecoder() };
        if (config?.AddPrefixSpace ?? true) steps.Add(new StripDecoder(new System.Text.Rune(' '), 1, 0));
        return new SequenceDecoder(steps.ToArray());
    }

    /// <summary>GPT2Tokenizer and Qwen2Tokenizer: BPE without unk token, byte fallback or ignore_merges.</summary>
    public static BpeSpec ByteLevelModel(Dictionary<string, int> vocab, IReadOnlyList<(string, string)> merges) =>
        new(vocab, merges, UnkToken: null, FuseUnk: false, ByteFallback: false, IgnoreMerges: false, ContinuingSubwordPrefix: null,
            EndOfWordSuffix: null);

    /// <summary>GPT2Tokenizer: ByteLevel with GPT-2's regex; add_prefix_space from the config, default false.</summary>
    public static IPreTokenizer Gpt2PreTokenizer(TokenizerConfig? config) => new ByteLevelPreTokenizer(config?.AddPrefixSpace ?? false,
        useRegex: true);

    /// <summary>Qwen2Tokenizer: NFC.</summary>
    public static INormalizer Qwen2Normalizer() => new UnicodeNormalizer(System.Text.NormalizationForm.FormC, "NFC");

    /// <summary>Qwen2Tokenizer: Split(Qwen2's regex, isolated), then ByteLevel without its own regex.</summary>
    public static IPreTokenizer Qwen2PreTokenizer(TokenizerConfig? config) =>
        new SequencePreTokenizer([new SplitPreTokenizer(new OnigRegex(VocabAndMergesImporter.Qwen2Pattern, "Qwen2Tokenizer"),
            SplitBehavior.Isolated, false),
            new ByteLevelPreTokenizer(config?.AddPrefixSpace ?? false, useRegex: false)]);

    /// <summary>GemmaTokenizer: BPE(fuse_unk, byte_fallback) whose unk token is the config's (default "&lt;unk&gt;").</summary>
    public static BpeSpec GemmaModel(Dictionary<string, int> vocab, IReadOnlyList<(string, string)> merges, TokenizerConfig? config) =>
        new(vocab, merges, UnkToken: NonEmpty(config?.UnkToken) ?? "<unk>", FuseUnk: true, ByteFallback: true, IgnoreMerges: false,
            ContinuingSubwordPrefix: null, EndOfWordSuffix: null);

    /// <summary>GemmaTokenizer: every " " becomes "▁"; no "▁" is prepended (unlike Llama's Metaspace).</summary>
    public static INormalizer GemmaNormalizer() => new ReplaceNormalizer(" ", Space);

    /// <summary>
    /// GemmaTokenizer: Split(" ", merged_with_previous). It runs on the normalized text, which holds no " " any more, so
    /// each pre-token is the whole text between added tokens; it is built anyway so the pipeline reads as transformers'.
    /// </summary>
    public static IPreTokenizer GemmaPreTokenizer() =>
        new SplitPreTokenizer(new OnigRegex(" ", "GemmaTokenizer"), SplitBehavior.MergedWithPrevious, invert: false);

    /// <summary>GemmaTokenizer: "▁" → " ", byte fallback, fuse; no leading space is stripped (none was added).</summary>
    public static IDecoder GemmaDecoder() =>
        new SequenceDecoder([new ReplaceDecoder(Space, " "), new ByteFallbackDecoder(), new FuseDecoder()]);

    static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>The special token names a class falls back to when tokenizer_config.json does not name them.</summary>
    public static (string? Unk, string? Bos, string? Eos, string? Pad) DefaultSpecialTokens(TokenizerClassKind kind) => kind switch
    {
        TokenizerClassKind.Llama => ("<unk>", "<s>", "</s>", null),
        TokenizerClassKind.Gpt2 => ("<|endoftext|>", "<|endoftext|>", "<|endoftext|>", null),
        TokenizerClassKind.Qwen2 => ("<|endoftext|>", null, "<|endoftext|>", "<|endoftext|>"),
        TokenizerClassKind.Gemma => ("<unk>", "<bos>", "<eos>", "<pad>"),
        TokenizerClassKind.Clip => ("<|endoftext|>", "<|startoftext|>", "<|endoftext|>", "<|endoftext|>"),
        TokenizerClassKind.T5 => ("<unk>", null, "</s>", "<pad>"),
        _ => (null, null, null, null),
    };

    /// <summary>
    /// Every special token tokenizer_config.json names (or the class's default name) becomes a special added token
    /// when the vocabulary has it, as TokenizersBackend's constructor adds them. (transformers would also give a name
    /// missing from the vocabulary a new id; Qzo does not invent ids.)
    /// </summary>
    public static void AddNamedSpecialTokens(List<AddedToken> added, IEnumerable<string?> names, Func<string, int?> vocabId)
    {
        foreach (var name in names)
            if (!string.IsNullOrEmpty(name) && !added.Any(a => a.Content == name) && vocabId(name) is int id)
                added.Add(new AddedToken(id, name, false, false, false, Normalized: false, Special: true));
    }

    /// <summary>Added tokens from a second source (tokenizer_config.json's added_tokens_decoder) whose ids are not added yet.</summary>
    public static void AddMissing(List<AddedToken> added, IEnumerable<AddedToken> more)
    {
        foreach (var t in more)
            if (!added.Any(a => a.Id == t.Id || a.Content == t.Content)) added.Add(t);
    }
}
