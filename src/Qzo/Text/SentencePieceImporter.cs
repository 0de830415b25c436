namespace Qzo.Text;

/// <summary>
/// Builds a tokenizer from a SentencePiece model file: a BPE <c>tokenizer.model</c> (Llama-2, Mistral) or a Unigram
/// <c>spiece.model</c> (T5), in two forms: <see cref="Build"/>, what transformers 5's class makes of the file
/// (LlamaTokenizer for BPE, T5Tokenizer for Unigram; the form <see cref="Tokenizer.Load"/> uses), and
/// <see cref="BuildAsSentencePiece"/>, what SentencePiece itself (spm_encode) does with it.
/// </summary>
internal static class SentencePieceImporter
{
    const string Space = TokenizerClasses.Space;

    /// <summary>
    /// transformers 5's LlamaTokenizer over the file: vocab = pieces by id; merges = every split of a piece into two
    /// pieces, in piece id order (shorter left part first), as transformers' generate_merges orders them; CONTROL
    /// pieces special added tokens, USER_DEFINED ones plain added tokens; then LlamaTokenizer's own pipeline
    /// (<see cref="TokenizerClasses"/>), so the file's normalizer settings (add_dummy_prefix,
    /// remove_extra_whitespaces) play no part; BOS/EOS only as add_bos_token / add_eos_token ask.
    /// </summary>
    public static (Tokenizer, TokenizerDefaults) Build(SentencePieceModel sp, TokenizerConfig? config)
    {
        if (sp.ModelType == SentencePieceModelType.Unigram) return BuildT5(sp, config);
        Check(sp);
        var vocab = Vocab(sp);
        var added = AddedPieces(sp);
        TokenizerClasses.AddMissing(added, config?.AddedTokensDecoder ?? []);
        var names = TokenizerClasses.DefaultSpecialTokens(TokenizerClassKind.Llama);
        TokenizerClasses.AddNamedSpecialTokens(added,
            [config?.BosToken ?? names.Bos, config?.EosToken ?? names.Eos, config?.UnkToken ?? names.Unk, config?.PadToken],
                t => vocab.TryGetValue(t, out int id) ? id : null);
        var model = TokenizerClasses.LlamaModel(vocab, MergesByPieceId(sp, vocab)).Build();
        var tokenizer = new Tokenizer(new AddedVocabulary(added, null), null, TokenizerClasses.LlamaPreTokenizer(config), model,
            postProcessor: null,
            TokenizerClasses.LlamaDecoder(config));
        return (tokenizer, new TokenizerDefaults(names.Unk, names.Bos, names.Eos, null, PostProcessorFromFlags: true));
    }

    /// <summary>
    /// SentencePiece's own encoding (spm_encode): the normalizer spec as Prepend "▁" (add_dummy_prefix) + Replace
    /// " " → "▁" (escape_whitespaces), with remove_extra_whitespaces; merges by piece score, equal scores sharing a rank;
    /// byte fallback to the &lt;0xNN&gt; pieces; BOS/EOS as add_bos_token / add_eos_token ask.
    /// </summary>
    public static (Tokenizer, TokenizerDefaults) BuildAsSentencePiece(SentencePieceModel sp, TokenizerConfig? config)
    {
        if (sp.ModelType == SentencePieceModelType.Unigram) return BuildUnigramAsSentencePiece(sp, config);
        Check(sp);
        var vocab = Vocab(sp);
        var added = AddedPieces(sp);
        TokenizerClasses.AddMissing(added, config?.AddedTokensDecoder ?? []);

        var (merges, ranks) = MergesByScore(sp, vocab);
        var model = new BpeModel(vocab, merges, sp.PieceAt(sp.UnkId), fuseUnk: true, byteFallback: sp.ByteFallback, ignoreMerges: false,
            continuingSubwordPrefix: null, endOfWordSuffix: null, ranks);

        string space = sp.EscapeWhitespaces ? Space : " ";
        var steps = new List<INormalizer>();
        if (sp.RemoveExtraWhitespaces) steps.Add(new SentencePieceWhitespaceNormalizer());
        if (sp.AddDummyPrefix) steps.Add(new PrependNormalizer(space));
        if (sp.EscapeWhitespaces) steps.Add(new ReplaceNormalizer(" ", Space));
        if (sp.RemoveExtraWhitespaces) steps.Add(new TrimEndNormalizer(space[0]));
        INormalizer? normalizer = steps.Count switch { 0 => null, 1 => steps[0], _ => new SequenceNormalizer(steps.ToArray()) };

        var decoders = new List<IDecoder> { new ReplaceDecoder(Space, " "), new ByteFallbackDecoder(), new FuseDecoder() };
        if (sp.AddDummyPrefix) decoders.Add(new StripDecoder(new System.Text.Rune(' '), 1, 0));

        var tokenizer = new Tokenizer(new AddedVocabulary(added, normalizer), normalizer, null, model, postProcessor: null,
            new SequenceDecoder(decoders.ToArray()));
        return (tokenizer, new TokenizerDefaults(sp.PieceAt(sp.UnkId), sp.PieceAt(sp.BosId), sp.PieceAt(sp.EosId), null,
            PostProcessorFromFlags: true));
    }

    /// <summary>
    /// T5Tokenizer over spiece.model (<see cref="T5TokenizerClass"/>): the pieces and the sentinels, the model's character
    /// map; CONTROL and UNKNOWN pieces special added tokens, USER_DEFINED ones plain added tokens. Only T5Tokenizer reads
    /// a Unigram model here: a config naming another class is refused.
    /// </summary>
    static (Tokenizer, TokenizerDefaults) BuildT5(SentencePieceModel sp, TokenizerConfig? config)
    {
        if (config?.TokenizerClass is not null && config.Kind != TokenizerClassKind.T5)
            throw new TokenizerFormatException(
                $"a Unigram model is read as T5Tokenizer only, but tokenizer_config.json names {config.TokenizerClass}");
        if (sp.TreatWhitespaceAsSuffix) throw new TokenizerFormatException("treat_whitespace_as_suffix is not supported");
        var charsMap = sp.PrecompiledCharsMapLength > 0 ? new PrecompiledCharsMap(sp.PrecompiledCharsMap) : null;
        return T5TokenizerClass.Build(T5TokenizerClass.VocabFromSentencePiece(sp, config), charsMap, AddedPieces(sp), config);
    }

    /// <summary>
    /// SentencePiece's own Unigram encoding: its normalizer (<see cref="SentencePieceNormalizer"/>: the character map's
    /// longest rules, the whitespace options), then one Viterbi pass over the whole text among the NORMAL and
    /// USER_DEFINED pieces, unknowns scored from the lowest NORMAL score; BOS/EOS as add_bos_token / add_eos_token ask.
    /// </summary>
    static (Tokenizer, TokenizerDefaults) BuildUnigramAsSentencePiece(SentencePieceModel sp, TokenizerConfig? config)
    {
        if (sp.TreatWhitespaceAsSuffix) throw new TokenizerFormatException("treat_whitespace_as_suffix is not supported");
        var added = AddedPieces(sp);
        TokenizerClasses.AddMissing(added, config?.AddedTokensDecoder ?? []);
        var normal = sp.Pieces.Where(p => p.Type == SentencePieceType.Normal).Select(p => (double)p.Score).DefaultIfEmpty(0).Min();
        var model = new UnigramModel(sp.Pieces.Select(p => (p.Piece, (double)p.Score)).ToList(), sp.UnkId >= 0 ? sp.UnkId : null,
            sp.ByteFallback, sp.Pieces.Select(p => p.Type is SentencePieceType.Normal or SentencePieceType.UserDefined).ToList(), normal);
        var charsMap = sp.PrecompiledCharsMapLength > 0 ? new PrecompiledCharsMap(sp.PrecompiledCharsMap) : null;
        var normalizer = new SentencePieceNormalizer(charsMap, sp.AddDummyPrefix, sp.RemoveExtraWhitespaces, sp.EscapeWhitespaces);
        var decoders = new List<IDecoder> { new ReplaceDecoder(Space, " "), new ByteFallbackDecoder(), new FuseDecoder() };
        if (sp.AddDummyPrefix) decoders.Add(new StripDecoder(new System.Text.Rune(' '), 1, 0));
        var tokenizer = new Tokenizer(new AddedVocabulary(added, normalizer), normalizer, null, model, postProcessor: null,
            new SequenceDecoder(decoders.ToArray()));
        return (tokenizer, new TokenizerDefaults(sp.PieceAt(sp.UnkId), sp.PieceAt(sp.BosId), sp.PieceAt(sp.EosId), sp.PieceAt(sp.PadId),
            PostProcessorFromFlags: true));
    }

    static void Check(SentencePieceModel sp)
    {
        if (sp.ModelType != SentencePieceModelType.Bpe)
            throw new TokenizerFormatException(
                $"model_type {sp.ModelType.ToString().ToUpperInvariant()} is not supported (only BPE, as Llama-2 and Mistral use, and " +
                "UNIGRAM, as T5)");
        if (sp.PrecompiledCharsMapLength > 0)
            throw new TokenizerFormatException(
                $"normalizer \"{sp.NormalizerName}\" uses a precompiled character map, which is not supported (Llama-2 and Mistral use " +
                "\"identity\")");
        if (sp.TreatWhitespaceAsSuffix)
            throw new TokenizerFormatException("treat_whitespace_as_suffix is not supported");
    }

    static Dictionary<string, int> Vocab(SentencePieceModel sp)
    {
        var vocab = new Dictionary<string, int>(sp.Pieces.Count, StringComparer.Ordinal);
        for (int id = 0; id < sp.Pieces.Count; id++)
            if (!vocab.TryAdd(sp.Pieces[id].Piece, id)) throw new TokenizerFormatException(
                $"piece {id} \"{sp.Pieces[id].Piece}\" duplicates piece {vocab[sp.Pieces[id].Piece]}");
        return vocab;
    }

    /// <summary>CONTROL and UNKNOWN pieces as special added tokens, USER_DEFINED ones as plain added tokens.</summary>
    static List<AddedToken> AddedPieces(SentencePieceModel sp)
    {
        var added = new List<AddedToken>();
        for (int id = 0; id < sp.Pieces.Count; id++)
        {
            var p = sp.Pieces[id];
            if (p.Type is SentencePieceType.Control or SentencePieceType.Unknown or SentencePieceType.UserDefined)
                added.Add(new AddedToken(id, p.Piece, false, false, false, Normalized: false,
                    Special: p.Type != SentencePieceType.UserDefined));
        }
        return added;
    }

    /// <summary>
    /// transformers' generate_merges over the pieces by id: for each piece in id order, each split into two pieces
    /// (at code point boundaries), shorter left part first; every merge its own rank.
    /// </summary>
    static List<(string, string)> MergesByPieceId(SentencePieceModel sp, Dictionary<string, int> vocab)
    {
        var merges = new List<(string, string)>();
        for (int id = 0; id < sp.Pieces.Count; id++)
        {
            string s = sp.Pieces[id].Piece;
            for (int cut = 1; cut < s.Length; cut++)
            {
                if (char.IsLowSurrogate(s[cut])) continue;
                string left = s[..cut], right = s[cut..];
                if (vocab.ContainsKey(left) && vocab.ContainsKey(right)) merges.Add((left, right));
            }
        }
        return merges;
    }

    /// <summary>
    /// SentencePiece BPE merges the adjacent pair whose concatenation is a piece (NORMAL, USER_DEFINED or UNUSED) with
    /// the highest score, leftmost on ties. As BPE merges: every split of such a piece into two vocab pieces, ranked by
    /// the piece's score (highest first); equal scores share a rank, so the leftmost pair wins as in SentencePiece.
    /// </summary>
    static (List<(string Left, string Right)> Merges, List<int> Ranks) MergesByScore(SentencePieceModel sp, Dictionary<string, int> vocab)
    {
        var candidates = new List<(string Left, string Right, float Score, int Id)>();
        for (int id = 0; id < sp.Pieces.Count; id++)
        {
            var p = sp.Pieces[id];
            if (p.Type is not (SentencePieceType.Normal or SentencePieceType.UserDefined or SentencePieceType.Unused)) continue;
            string s = p.Piece;
            for (int cut = 1; cut < s.Length; cut++)
            {
                if (char.IsLowSurrogate(s[cut])) continue;
                string left = s[..cut], right = s[cut..];
                if (vocab.ContainsKey(left) && vocab.ContainsKey(right)) candidates.Add((left, right, p.Score, id));
            }
        }
        candidates.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
        var merges = new List<(string, string)>(candidates.Count);
        var ranks = new List<int>(candidates.Count);
        int rank = -1;
        for (int i = 0; i < candidates.Count; i++)
        {
            if (i == 0 || candidates[i].Score != candidates[i - 1].Score) rank++;
            merges.Add((candidates[i].Left, candidates[i].Right));
            ranks.Add(rank);
        }
        return (merges, ranks);
    }
}
