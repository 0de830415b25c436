namespace Qzo.Text;

/// <summary>
/// transformers 5's CLIPTokenizer (models/clip/tokenization_clip.py, backed by the tokenizers library), the class of
/// Stable Diffusion's tokenizer/ and tokenizer_2/ folders. Whatever the source (vocab.json + merges.txt as the Hub ships
/// them, or a tokenizer.json), it keeps only the vocabulary, the merges and the added tokens and builds:
/// <list type="bullet">
/// <item>BPE with end_of_word_suffix "&lt;/w&gt;" (a word's last symbol is looked up as "x&lt;/w&gt;"), no unk fusing;</item>
/// <item>normalizer NFC, then every run of white space → one " ", then lowercase;</item>
/// <item>pre-tokenizer: the pieces CLIP's regex matches (everything else, white space included, is dropped), each
/// through ByteLevel (GPT-2's byte alphabet, no prefix space);</item>
/// <item>post-processor &lt;|startoftext|&gt; X &lt;|endoftext|&gt;;</item>
/// <item>decoder ByteLevel, then "&lt;/w&gt;" → " " and the ends trimmed.</item>
/// </list>
/// Every special token the config names (unk, bos, eos, pad; defaults &lt;|endoftext|&gt; / &lt;|startoftext|&gt;)
/// becomes a special added token when the vocabulary has it, so tokenizer_2's pad token "!" is matched as a token of
/// its own, without "&lt;/w&gt;" (id 0), wherever the text holds a "!".
/// </summary>
internal static class ClipTokenizerClass
{
    public const string Pattern = @"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";
    public const string EndOfWord = "</w>";

    public static (Tokenizer, TokenizerDefaults) Build(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        List<AddedToken> added, TokenizerConfig? config)
    {
        var names = TokenizerClasses.DefaultSpecialTokens(TokenizerClassKind.Clip);
        string unk = NonEmpty(config?.UnkToken) ?? names.Unk!, bos = NonEmpty(config?.BosToken) ?? names.Bos!,
            eos = NonEmpty(config?.EosToken) ?? names.Eos!;
        TokenizerClasses.AddMissing(added, config?.AddedTokensDecoder ?? []);
        TokenizerClasses.AddNamedSpecialTokens(added, [bos, eos, unk, config?.PadToken ?? names.Pad],
            t => vocab.TryGetValue(t, out int id) ? id : null);

        var model = new BpeModel(vocab, merges, unk, fuseUnk: false, byteFallback: false, ignoreMerges: false, continuingSubwordPrefix: "",
            endOfWordSuffix: EndOfWord);
        INormalizer normalizer = new SequenceNormalizer([
            new UnicodeNormalizer(System.Text.NormalizationForm.FormC, "NFC"),
            new RegexReplaceNormalizer(new OnigRegex(@"\s+", "CLIPTokenizer"), " "),
            new LowercaseNormalizer(),
        ]);
        IPreTokenizer preTokenizer = new SequencePreTokenizer([
            new SplitPreTokenizer(new OnigRegex(Pattern, "CLIPTokenizer"), SplitBehavior.Removed, invert: true),
            new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true),
        ]);
        var post = new TemplateProcessor([[SpecialId(bos)], null, [SpecialId(eos)]]);
        var tokenizer = new Tokenizer(new AddedVocabulary(added, normalizer), normalizer, preTokenizer, model, post, new ClipDecoder());
        return (tokenizer, new TokenizerDefaults(unk, bos, eos, names.Pad, PostProcessorFromFlags: false));

        int SpecialId(string token) => added.FirstOrDefault(a => a.Content == token)?.Id
            ?? (vocab.TryGetValue(token, out int id) ? id
                : throw new TokenizerFormatException($"CLIPTokenizer: the special token \"{token}\" is not in the vocab"));
    }

    static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary>CLIPTokenizer's decode: ByteLevel, then each "&lt;/w&gt;" becomes a space and the text is trimmed.</summary>
internal sealed class ClipDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        string text = string.Concat(new ByteLevelDecoder().DecodeChain(tokens));
        return [text.Replace(ClipTokenizerClass.EndOfWord, " ", StringComparison.Ordinal).Trim()];
    }
}
