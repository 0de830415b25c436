namespace Qzo.Text;

/// <summary>
/// Builds the BPE tokenizer equivalent to a SentencePiece BPE <c>tokenizer.model</c> (Llama-2, Mistral), laid out as
/// transformers' Llama conversion lays it out: vocab = pieces by id; CONTROL and UNKNOWN pieces special added tokens,
/// USER_DEFINED ones plain added tokens; normalizer Prepend "▁" + Replace " " → "▁" (or, with <c>legacy: false</c>, a
/// Metaspace pre-tokenizer that prepends only at the start); byte fallback to the &lt;0xNN&gt; pieces; BOS/EOS from
/// tokenizer_config.json (add_bos_token defaults to true, as in LlamaTokenizer).
/// </summary>
internal static class SentencePieceImporter
{
    const string Space = "\u2581";

    public static (Tokenizer, TokenizerDefaults) Build(SentencePieceModel sp, TokenizerConfig? config)
    {
        if (sp.ModelType != SentencePieceModelType.Bpe)
            throw new TokenizerFormatException($"model_type {sp.ModelType.ToString().ToUpperInvariant()} is not supported (only BPE, the type Llama-2 and Mistral use)");
        if (sp.PrecompiledCharsMapLength > 0)
            throw new TokenizerFormatException($"normalizer \"{sp.NormalizerName}\" uses a precompiled character map, which is not supported (Llama-2 and Mistral use \"identity\")");
        if (sp.TreatWhitespaceAsSuffix)
            throw new TokenizerFormatException("treat_whitespace_as_suffix is not supported");

        var vocab = new Dictionary<string, int>(sp.Pieces.Count, StringComparer.Ordinal);
        var added = new List<AddedToken>();
        for (int id = 0; id < sp.Pieces.Count; id++)
        {
            var p = sp.Pieces[id];
            if (!vocab.TryAdd(p.Piece, id)) throw new TokenizerFormatException($"piece {id} \"{p.Piece}\" duplicates piece {vocab[p.Piece]}");
            if (p.Type is SentencePieceType.Control or SentencePieceType.Unknown or SentencePieceType.UserDefined)
                added.Add(new AddedToken(id, p.Piece, false, false, false, Normalized: false, Special: p.Type != SentencePieceType.UserDefined));
        }
        foreach (var t in config?.AddedTokensDecoder ?? []) if (!added.Any(a => a.Id == t.Id)) added.Add(t);

        var (merges, ranks) = Merges(sp, vocab);
        var model = new BpeModel(vocab, merges, sp.PieceAt(sp.UnkId), fuseUnk: true, byteFallback: sp.ByteFallback, ignoreMerges: false,
            continuingSubwordPrefix: null, endOfWordSuffix: null, ranks);

        bool legacy = config?.Legacy ?? true;
        string space = sp.EscapeWhitespaces ? Space : " ";
        var steps = new List<INormalizer>();
        if (sp.RemoveExtraWhitespaces) steps.Add(new SentencePieceWhitespaceNormalizer());
        IPreTokenizer? preTokenizer = null;
        if (legacy)
        {
            if (sp.AddDummyPrefix) steps.Add(new PrependNormalizer(space));
            if (sp.EscapeWhitespaces) steps.Add(new ReplaceNormalizer(" ", Space));
            if (sp.RemoveExtraWhitespaces) steps.Add(new TrimEndNormalizer(space[0]));
        }
        else if (sp.RemoveExtraWhitespaces || !sp.EscapeWhitespaces)
            throw new TokenizerFormatException("legacy: false needs remove_extra_whitespaces false and escape_whitespaces true (as Llama's models have)");
        else preTokenizer = new MetaspacePreTokenizer(new System.Text.Rune(Space[0]), sp.AddDummyPrefix ? PrependScheme.First : PrependScheme.Never, split: false);
        INormalizer? normalizer = steps.Count switch { 0 => null, 1 => steps[0], _ => new SequenceNormalizer(steps.ToArray()) };

        var decoders = new List<IDecoder> { new ReplaceDecoder(Space, " "), new ByteFallbackDecoder(), new FuseDecoder() };
        if (sp.AddDummyPrefix) decoders.Add(new StripDecoder(new System.Text.Rune(' '), 1, 0));

        var tokenizer = new Tokenizer(new AddedVocabulary(added, normalizer), normalizer, preTokenizer, model, postProcessor: null,
            new SequenceDecoder(decoders.ToArray()));
        return (tokenizer, new TokenizerDefaults(sp.PieceAt(sp.UnkId), sp.PieceAt(sp.BosId), sp.PieceAt(sp.EosId), AddBosToken: true, PostProcessorFromConfig: true));
    }

    /// <summary>
    /// SentencePiece BPE merges the adjacent pair whose concatenation is a piece (NORMAL, USER_DEFINED or UNUSED) with
    /// the highest score, leftmost on ties. As BPE merges: every split of such a piece into two vocab pieces, ranked by
    /// the piece's score (highest first); equal scores share a rank, so the leftmost pair wins as in SentencePiece.
    /// </summary>
    static (List<(string Left, string Right)> Merges, List<int> Ranks) Merges(SentencePieceModel sp, Dictionary<string, int> vocab)
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
