using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// HF tokenizers' BPE model (models/bpe/model.rs): characters → vocab ids (byte fallback to &lt;0xNN&gt;, else unk,
/// optionally fused), then <see cref="BpeMerger"/>. Thread-safe; results for short pieces are cached.
/// A merge's rank is its index in the merges list unless explicit ranks are given (SentencePiece: equal scores, equal ranks).
/// </summary>
internal sealed class BpeModel : ITokenizerModel
{
    const int CacheCapacity = 10_000;
    const int CacheMaxLength = 256;
    const int MaxVocabId = 16_777_215; // ids index arrays; far above any real vocabulary

    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    readonly string?[] _idToToken;
    readonly Dictionary<long, MergeRule> _merges;
    readonly int[] _byteIds = new int[256];
    readonly string? _unkToken;
    readonly bool _fuseUnk, _byteFallback, _ignoreMerges;
    readonly string? _prefix, _suffix;
    readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    const char Mark = '\u2581';
    /// <summary>
    /// Per id: the token starts / ends with "▁"; null when the vocab does not allow run-by-run merging (see <see cref="Merge"/>).
    /// </summary>
    readonly bool[]? _markStarts, _markEnds;

    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string? unkToken,
        bool fuseUnk, bool byteFallback, bool ignoreMerges, string? continuingSubwordPrefix, string? endOfWordSuffix,
        IReadOnlyList<int>? ranks = null)
    {
        _vocab = vocab;
        _lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _idToToken = new string?[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) _idToToken[id] = token;
        _unkToken = unkToken;
        _fuseUnk = fuseUnk;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;
        _prefix = continuingSubwordPrefix;
        _suffix = endOfWordSuffix;
        for (int b = 0; b < 256; b++) _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;

        if (_prefix is null && _suffix is null && vocab.Keys.All(OnlyLeadingMarks))
        {
            _markStarts = new bool[_idToToken.Length];
            _markEnds = new bool[_idToToken.Length];
            foreach (var (token, id) in vocab)
            {
                _markStarts[id] = token.StartsWith(Mark);
                _markEnds[id] = token.EndsWith(Mark);
            }
        }

        int prefixLength = _prefix?.Length ?? 0;
        _merges = new Dictionary<long, MergeRule>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (a, b) = merges[rank];
            int aId = VocabId(a, rank), bId = VocabId(b, rank);
            if (b.Length < prefixLength) throw new TokenizerFormatException(
                $"model.merges[{rank}]: \"{b}\" is shorter than continuing_subword_prefix");
            // A later duplicate pair overrides an earlier one, as in HF's HashMap collect.
            _merges[BpeMerger.Key(aId, bId)] = new MergeRule(ranks?[rank] ?? rank, VocabId(a + b[prefixLength..], rank));
        }
    }

    int VocabId(string token, int rank) =>
        _vocab.TryGetValue(token, out int id) ? id
            : throw new TokenizerFormatException($"model.merges[{rank}]: token \"{token}\" is not in the vocab");

    public int MaxId => _idToToken.Length - 1;
    public string? UnkToken => _unkToken;

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    public static BpeModel Parse(JsonElement j, string where = "model") => ParseSpec(j, where).Build();

    /// <summary>
    /// A tokenizer.json BPE model as written, before it is built (transformers' classes rebuild it with their own options).
    /// </summary>
    public static BpeSpec ParseSpec(JsonElement j, string where = "model")
    {
        string type = j.ValueKind == JsonValueKind.Object && j.Optional("type") is null && j.Optional("merges") is not null ? "BPE"
            : j.TypeOf(where);
        if (type != "BPE") throw new TokenizerFormatException($"{where}: unsupported model type \"{type}\" (only BPE is supported)");
        if (j.Optional("dropout") is { } dropout && !(dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() == 0))
            throw new TokenizerFormatException($"{where}: BPE dropout must be null (training-time randomness is not supported)");

        var vocabJson = j.Required("vocab", where);
        if (vocabJson.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException($"{where}: \"vocab\" must be an object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocabJson.EnumerateObject())
        {
            if (!p.Value.TryGetId(out int id) || id > MaxVocabId)
                throw new TokenizerFormatException($"{where}.vocab[\"{p.Name}\"]: id must be an integer from 0 to {MaxVocabId}");
            vocab[p.Name] = id;
        }

        var merges = new List<(string, string)>();
        int rank = 0;
        foreach (var m in j.RequiredArray("merges", where))
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                string line = m.GetString()!;
                if (line.StartsWith("#version", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ');
                if (parts.Length != 2) throw new TokenizerFormatException(
                    $"{where}.merges[{rank}]: \"{line}\" is not two tokens separated by one space");
                merges.Add((parts[0], parts[1]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String
                && m[1].ValueKind == JsonValueKind.String)
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else throw new TokenizerFormatException($"{where}.merges[{rank}]: must be \"a b\" or [\"a\", \"b\"]");
            rank++;
        }

        return new BpeSpec(vocab, merges, j.OptionalString("unk_token", where), j.OptionalBool("fuse_unk", false, where),
            j.OptionalBool("byte_fallback", false, where), j.OptionalBool("ignore_merges", false, where),
            j.OptionalString("continuing_subword_prefix", where), j.OptionalString("end_of_word_suffix", where));
    }

    public void Tokenize(string piece, List<int> output)
    {
        if (piece.Length == 0) return;
        if (_ignoreMerges && _vocab.TryGetValue(piece, out int whole))
        {
            output.Add(whole);
            return;
        }
        bool cacheable = piece.Length < CacheMaxLength;
        if (cacheable && _cache.TryGetValue(piece, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        int before = output.Count;
        Merge(InitialSymbols(piece), output);
        if (cacheable && _cache.Count < CacheCapacity) _cache.TryAdd(piece, output.GetRange(before, output.Count - before).ToArray());
    }

    /// <summary>
    /// Merges symbol by symbol-run. When no vocab token has "▁" after another character (true of SentencePiece
    /// vocabularies such as Llama-2's), no merge can join a symbol ending in another character to one starting with
    /// "▁", so the runs between such boundaries merge independently: same result as one heap over the whole piece
    /// (which is what HF does), but fast on long text without a pre-tokenizer.
    /// </summary>
    void Merge(List<int> symbols, List<int> output)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(symbols);
        if (_markStarts is not { } starts || _markEnds is not { } ends)
        {
            BpeMerger.MergeAll(span, _merges, output);
            return;
        }
        int start = 0;
        for (int i = 1; i < span.Length; i++)
        {
            if (starts[span[i]] && !ends[span[i - 1]])
            {
                BpeMerger.MergeAll(span[start..i], _merges, output);
                start = i;
            }
        }
        BpeMerger.MergeAll(span[start..], _merges, output);
    }

    static bool OnlyLeadingMarks(string token) => token.AsSpan().TrimStart(Mark).IndexOf(Mark) < 0;

    /// <summary>
    /// HF merge_word before merging, including its ordering quirk: a pending unk is emitted only before the next in-vocab character.
    /// </summary>
    List<int> InitialSymbols(string piece)
    {
        var symbols = new List<int>(piece.Length);
        bool pendingUnk = false;
        Span<byte> utf8 = stackalloc byte[4];
        Span<char> chars = stackalloc char[2];
        for (int i = 0; i < piece.Length;)
        {
            if (Rune.DecodeFromUtf16(piece.AsSpan(i), out var rune, out int used) != System.Buffers.OperationStatus.Done) rune =
                Rune.ReplacementChar;
            bool isFirst = i == 0;
            i += used;
            bool isLast = i >= piece.Length;

            string? decorated = null;
            if ((!isFirst && _prefix is not null) || (isLast && _suffix is not null))
                decorated = (!isFirst ? _prefix : "") + rune.ToString() + (isLast ? _suffix : "");
            ReadOnlySpan<char> key = decorated ?? (ReadOnlySpan<char>)chars[..rune.EncodeToUtf16(chars)];

            if (_lookup.TryGetValue(key, out int id))
            {
                if (pendingUnk) { symbols.Add(UnkId()); pendingUnk = false; }
                symbols.Add(id);
                continue;
            }
            if (_byteFallback && TryAddBytes(decorated, rune, utf8, symbols)) continue;
            if (_unkToken is not null)
            {
                if (pendingUnk && !_fuseUnk) symbols.Add(UnkId());
                pendingUnk = true;
            }
        }
        if (pendingUnk) symbols.Add(UnkId());
        return symbols;
    }

    bool TryAddBytes(string? decorated, Rune rune, Span<byte> utf8, List<int> symbols)
    {
        ReadOnlySpan<byte> bytes = decorated is null ? utf8[..rune.EncodeToUtf8(utf8)] : Encoding.UTF8.GetBytes(decorated);
        foreach (byte b in bytes) if (_byteIds[b] < 0) return false;
        foreach (byte b in bytes) symbols.Add(_byteIds[b]);
        return true;
    }

    int UnkId() => _vocab.TryGetValue(_unkToken!, out int id) ? id
        : throw new QzoException($"tokenizer: unk_token \"{_unkToken}\" is not in the vocab, but the text has a character the vocab lacks");
}

/// <summary>The options of a BPE model (tokenizer.json's "model" object, or what a transformers class passes to BPE(...)).</summary>
internal sealed record BpeSpec(Dictionary<string, int> Vocab, IReadOnlyList<(string Left, string Right)> Merges, string? UnkToken,
    bool FuseUnk, bool ByteFallback, bool IgnoreMerges, string? ContinuingSubwordPrefix, string? EndOfWordSuffix)
{
    public BpeModel Build() => new(Vocab, Merges, UnkToken, FuseUnk, ByteFallback, IgnoreMerges, ContinuingSubwordPrefix, EndOfWordSuffix);
}
