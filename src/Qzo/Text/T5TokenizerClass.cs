using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// transformers 5's T5Tokenizer (models/t5/tokenization_t5.py; T5TokenizerFast is the same class), the class of
/// Stable Diffusion 3's tokenizer_3/. From tokenizer.json it keeps the Unigram pieces with their scores and the
/// Precompiled normalizer's character map; from spiece.model alone the pieces followed by the &lt;extra_id_N&gt;
/// sentinels (N from extra_ids − 1 down to 0) and the model's character map. It builds:
/// <list type="bullet">
/// <item>Unigram with unk id 2 (fixed by the class), no byte fallback;</item>
/// <item>normalizer Precompiled (none when there is no character map), per grapheme as HF's tokenizers applies it;</item>
/// <item>pre-tokenizer WhitespaceSplit, then Metaspace("▁", prepend "always", split): "a cat" → "▁a", "▁cat";</item>
/// <item>post-processor X &lt;/s&gt;; decoder Metaspace.</item>
/// </list>
/// eos &lt;/s&gt;, unk &lt;unk&gt;, pad &lt;pad&gt; and the sentinels are special added tokens (when in the vocabulary).
/// The file's own normalizer steps (a Replace of space runs) and pre-tokenizer are not used, as transformers does not.
/// </summary>
internal static class T5TokenizerClass
{
    const int UnkId = 2;
    const int DefaultExtraIds = 100;

    public static (Tokenizer, TokenizerDefaults) Build(IReadOnlyList<(string Piece, double Score)> vocab, PrecompiledCharsMap? charsMap,
        List<AddedToken> added, TokenizerConfig? config)
    {
        var names = TokenizerClasses.DefaultSpecialTokens(TokenizerClassKind.T5);
        string eos = NonEmpty(config?.EosToken) ?? names.Eos!;
        var model = new UnigramModel(vocab, UnkId, byteFallback: false);
        TokenizerClasses.AddMissing(added, config?.AddedTokensDecoder ?? []);
        TokenizerClasses.AddNamedSpecialTokens(added,
            [eos, config?.UnkToken ?? names.Unk, config?.PadToken ?? names.Pad, .. SpecialTokens(config)], model.TokenToId);

        INormalizer? normalizer = charsMap is null ? null : new PrecompiledNormalizer(charsMap);
        IPreTokenizer preTokenizer = new SequencePreTokenizer([
            new WhitespaceSplitPreTokenizer(),
            new MetaspacePreTokenizer(new System.Text.Rune(TokenizerClasses.Space[0]), PrependScheme.Always, split: true),
        ]);
        int eosId = added.FirstOrDefault(a => a.Content == eos)?.Id ?? model.TokenToId(eos)
            ?? throw new TokenizerFormatException($"T5Tokenizer: the eos token \"{eos}\" is not in the vocab");
        var decoder = new MetaspaceDecoder(new System.Text.Rune(TokenizerClasses.Space[0]), PrependScheme.Always);
        var tokenizer = new Tokenizer(new AddedVocabulary(added, normalizer), normalizer, preTokenizer, model,
            new TemplateProcessor([null, [eosId]]), decoder);
        return (tokenizer, new TokenizerDefaults(names.Unk, null, eos, names.Pad, PostProcessorFromFlags: false));
    }

    /// <summary>additional_special_tokens, plus the sentinels &lt;extra_id_0&gt;… when that list names none of them.</summary>
    static IEnumerable<string> SpecialTokens(TokenizerConfig? config)
    {
        var additional = config?.AdditionalSpecialTokens ?? [];
        if (additional.Any(t => t.Contains("<extra_id_", StringComparison.Ordinal))) return additional;
        return [.. additional, .. Sentinels(config)];
    }

    /// <summary>&lt;extra_id_0&gt; … &lt;extra_id_{extra_ids − 1}&gt;.</summary>
    static IEnumerable<string> Sentinels(TokenizerConfig? config) =>
        Enumerable.Range(0, config?.ExtraIds ?? DefaultExtraIds).Select(i => $"<extra_id_{i}>");

    /// <summary>spiece.model's pieces as T5Tokenizer's vocabulary: the pieces, then the sentinels from the last to the first.</summary>
    public static List<(string Piece, double Score)> VocabFromSentencePiece(SentencePieceModel sp, TokenizerConfig? config)
    {
        var vocab = sp.Pieces.Select(p => (p.Piece, (double)p.Score)).ToList();
        vocab.AddRange(Sentinels(config).Reverse().Select(s => (s, 0.0)));
        return vocab;
    }

    /// <summary>The character map of tokenizer.json's Precompiled normalizer, alone or inside a Sequence (null if none).</summary>
    public static PrecompiledCharsMap? CharsMapFromJson(JsonElement? normalizer)
    {
        if (normalizer is not { ValueKind: JsonValueKind.Object } n) return null;
        var steps = n.OptionalString("type", "normalizer") == "Sequence" ? n.RequiredArray("normalizers", "normalizer").ToList() : [n];
        foreach (var step in steps)
        {
            if (step.OptionalString("type", "normalizer") != "Precompiled") continue;
            string? base64 = step.OptionalString("precompiled_charsmap", "normalizer");
            if (string.IsNullOrEmpty(base64)) return null;
            try { return new PrecompiledCharsMap(Convert.FromBase64String(base64)); }
            catch (FormatException) { throw new TokenizerFormatException("normalizer: precompiled_charsmap is not base64"); }
        }
        return null;
    }

    static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
