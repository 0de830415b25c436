namespace Qzo.Text;

/// <summary>
/// A Hugging Face tokenizer: BPE (SentencePiece-style with byte fallback: Llama-2, Mistral; byte-level: GPT-2, OPT,
/// Llama-3, Qwen2, CLIP) or Unigram (T5), encoding and decoding exactly as the Rust <c>tokenizers</c> library does:
/// added tokens → normalizer → pre-tokenizer → model → post-processor.
/// Thread-safe.
/// </summary>
public sealed class Tokenizer
{
    readonly AddedVocabulary _added;
    readonly INormalizer? _normalizer;
    readonly IPreTokenizer? _preTokenizer;
    readonly ITokenizerModel _model;
    IPostProcessor? _postProcessor; // built by ApplyConfig where the source has none
    readonly IDecoder? _decoder;
    bool _cleanUpSpaces;

    internal Tokenizer(AddedVocabulary added, INormalizer? normalizer, IPreTokenizer? preTokenizer, ITokenizerModel model,
        IPostProcessor? postProcessor, IDecoder? decoder)
    {
        _added = added;
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _model = model;
        _postProcessor = postProcessor;
        _decoder = decoder;
        VocabSize = Math.Max(model.MaxId, added.MaxId) + 1;
    }

    /// <summary>Model vocab plus added tokens: the largest id + 1.</summary>
    public int VocabSize { get; }
    public int? BosId { get; private set; }
    public int? EosId { get; private set; }
    public int? PadId { get; private set; }
    public int? UnkId { get; private set; }

    /// <summary>
    /// Reads the tokenizer of a Hugging Face checkpoint folder: <c>tokenizer.json</c> if present, else SentencePiece's
    /// <c>tokenizer.model</c> or <c>spiece.model</c>, else <c>vocab.json</c> + <c>merges.txt</c> (GPT-2, CLIP); and
    /// <c>tokenizer_config.json</c> if present.
    /// </summary>
    public static Tokenizer Load(string directory) => TokenizerLoader.Load(directory);

    /// <summary>Whether <paramref name="directory"/> holds tokenizer files that <see cref="Load"/> reads.</summary>
    public static bool IsPresent(string directory) => TokenizerLoader.FindSource(directory) is not null;

    public static Tokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson = null, string sourceName = "tokenizer.json") =>
        TokenizerLoader.FromJson(tokenizerJson, tokenizerConfigJson, sourceName,
            Path.Combine(Path.GetDirectoryName(sourceName) ?? "", "tokenizer_config.json"));

    /// <summary>
    /// Sets the special token ids and, where the source has no post-processor, builds the BOS/EOS template from
    /// add_bos_token / add_eos_token as transformers 5's update_post_processor does.
    /// </summary>
    internal void ApplyConfig(TokenizerConfig? config, TokenizerDefaults defaults)
    {
        // Config names win ("" = explicitly none); without one, the class's usual names.
        string? unk = config?.UnkToken ?? defaults.UnkToken, bos = config?.BosToken ?? defaults.BosToken,
            eos = config?.EosToken ?? defaults.EosToken, pad = config?.PadToken ?? defaults.PadToken;
        UnkId = Id(unk);
        BosId = Id(bos);
        EosId = Id(eos);
        PadId = Id(pad);
        // transformers 5 skips clean_up_tokenization for BPE models ("destructive for BPE").
        _cleanUpSpaces = (config?.CleanUpTokenizationSpaces ?? false) && _model is not BpeModel;
        if (!defaults.PostProcessorFromFlags) return;
        // Without a BOS/EOS token transformers quietly adds none; a named token missing from the vocabulary would get
        // a new id there, which Qzo refuses rather than invents.
        bool addBos = (config?.AddBosToken ?? false) && !string.IsNullOrEmpty(bos),
            addEos = (config?.AddEosToken ?? false) && !string.IsNullOrEmpty(eos);
        if ((addBos && BosId is null) || (addEos && EosId is null))
            throw new TokenizerFormatException(
                $"add_{(addBos && BosId is null ? "bos" : "eos")}_token is true but that token is not in the vocab");
        var single = new List<int[]?>();
        if (addBos) single.Add([BosId!.Value]);
        single.Add(null);
        if (addEos) single.Add([EosId!.Value]);
        _postProcessor = new TemplateProcessor(single.ToArray());

        int? Id(string? token) => string.IsNullOrEmpty(token) ? null : TokenToId(token);
    }

    /// <summary>Text → ids. <paramref name="addSpecialTokens"/> applies the post-processor (for Llama-2: BOS first).</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        var ids = ModelIds(text);
        return (_postProcessor?.Process(ids, addSpecialTokens) ?? ids).ToArray();
    }

    /// <summary>
    /// transformers' tokenizer(text, padding="max_length", max_length=length, truncation=True).input_ids, as the SD3
    /// pipeline calls its CLIP and T5 tokenizers: the text's ids cut on the right to leave room for the special tokens,
    /// the special tokens added (so CLIP's still end in &lt;|endoftext|&gt; and T5's in &lt;/s&gt;), then
    /// <see cref="PadId"/> on the right up to <paramref name="length"/>.
    /// </summary>
    public int[] EncodePadded(string text, int length)
    {
        int added = _postProcessor?.AddedCount ?? 0;
        ArgumentOutOfRangeException.ThrowIfLessThan(length, added);
        var ids = ModelIds(text);
        if (ids.Count > length - added) ids.RemoveRange(length - added, ids.Count - (length - added));
        ids = _postProcessor?.Process(ids, addSpecialTokens: true) ?? ids;
        if (ids.Count < length)
        {
            int pad = PadId ?? throw new QzoException(
                "tokenizer: padding needs a pad token, and this tokenizer has none (tokenizer_config.json names no pad_token)");
            ids.AddRange(Enumerable.Repeat(pad, length - ids.Count));
        }
        return ids.ToArray();
    }

    /// <summary>Added tokens, normalizer, pre-tokenizer and model: the ids before the post-processor.</summary>
    List<int> ModelIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        var pieces = new List<PreToken>();
        foreach (var segment in _added.SplitAndNormalize(text, _normalizer))
        {
            if (segment.IsAddedToken)
            {
                ids.Add(segment.AddedId);
                continue;
            }
            var piece = new PreToken(segment.Text, segment.AtStart);
            if (_preTokenizer is null)
            {
                _model.Tokenize(piece.Text, ids);
                continue;
            }
            pieces.Clear();
            _preTokenizer.PreTokenize(piece, pieces);
            foreach (var p in pieces) _model.Tokenize(p.Text, ids);
        }
        return ids;
    }

    /// <summary>Ids → text through the decoder. Ids that are in no vocabulary are skipped, as HF does.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            string? token = _added.DecodeString(id) ?? _model.IdToToken(id);
            if (token is null || (skipSpecialTokens && _added.IsSpecial(token))) continue;
            tokens.Add(token);
        }
        string text = _decoder is null ? string.Join(" ", tokens) : string.Concat(_decoder.DecodeChain(tokens));
        return _cleanUpSpaces ? CleanUpSpaces(text) : text;
    }

    /// <summary>transformers' clean_up_tokenization: no space before . ? ! , and the English contractions.</summary>
    static string CleanUpSpaces(string text)
    {
        foreach (var (from, to) in s_cleanUps) text = text.Replace(from, to, StringComparison.Ordinal);
        return text;
    }

    static readonly (string, string)[] s_cleanUps =
        [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"),
            (" 've", "'ve"), (" 're", "'re")];

    public int? TokenToId(string token) => _added.TokenToId(token) ?? _model.TokenToId(token);

    public string IdToToken(int id) =>
        _added.DecodeString(id) ?? _model.IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(id), id,
            $"no token has id {id} (vocab size {VocabSize})");
}
