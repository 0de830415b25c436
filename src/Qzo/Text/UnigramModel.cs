using System.Text;
using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// A Unigram language model (SentencePiece's model_type UNIGRAM; HF tokenizers' models/unigram/model.rs): a piece of
/// text becomes the segmentation into vocabulary pieces with the highest total score, found by Viterbi over every
/// position (SentencePiece's EncodeOptimized). Where no piece covers a character, that character is unknown with
/// score min_score − 10; consecutive unknowns fuse into one unk id. With byte fallback an unknown run becomes the
/// &lt;0xNN&gt; pieces of its UTF-8 bytes instead (when all exist). Ties keep the first candidate found: earlier start,
/// then shorter piece. Thread-safe.
/// </summary>
internal sealed class UnigramModel : ITokenizerModel
{
    const double UnkPenalty = 10.0;

    readonly string[] _pieces;
    readonly double[] _scores;
    readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    readonly int? _unkId;
    readonly bool _byteFallback;
    readonly double _unkScore;
    // A character trie over the candidate pieces: edge (node, char) → child node; the piece id ending at a node, or -1.
    readonly Dictionary<long, int> _edges = [];
    readonly List<int> _pieceAtNode = [-1];

    /// <param name="vocab">Pieces by id with their scores.</param>
    /// <param name="candidate">Per id, whether the piece may appear in a segmentation (null: all, as HF does;
    /// SentencePiece leaves out control, unknown, byte and unused pieces).</param>
    /// <param name="minScore">The score unknowns are penalized from (null: the lowest score in the vocabulary).</param>
    public UnigramModel(IReadOnlyList<(string Piece, double Score)> vocab, int? unkId, bool byteFallback,
        IReadOnlyList<bool>? candidate = null, double? minScore = null)
    {
        if (vocab.Count == 0) throw new TokenizerFormatException("model: the Unigram vocab is empty");
        if (unkId is int u && (u < 0 || u >= vocab.Count))
            throw new TokenizerFormatException($"model: unk_id {u} is outside the vocab ({vocab.Count} pieces)");
        _pieces = new string[vocab.Count];
        _scores = new double[vocab.Count];
        for (int id = 0; id < vocab.Count; id++)
        {
            var (piece, score) = vocab[id];
            if (string.IsNullOrEmpty(piece)) throw new TokenizerFormatException($"model.vocab[{id}]: the piece is empty");
            _pieces[id] = piece;
            _scores[id] = score;
            // HF's token_to_ids keeps the last id of a duplicated piece.
            _ids[piece] = id;
            if (candidate is null || candidate[id]) Insert(piece, id);
        }
        _unkId = unkId;
        _byteFallback = byteFallback;
        _unkScore = (minScore ?? _scores.Min()) - UnkPenalty;
    }

    void Insert(string piece, int id)
    {
        int node = 0;
        foreach (char c in piece)
        {
            long key = Edge(node, c);
            if (!_edges.TryGetValue(key, out int child))
            {
                child = _pieceAtNode.Count;
                _pieceAtNode.Add(-1);
                _edges[key] = child;
            }
            node = child;
        }
        // A later duplicate wins in HF's trie too (it maps the piece back through token_to_ids).
        _pieceAtNode[node] = id;
    }

    static long Edge(int node, char c) => ((long)node << 16) | c;

    public int MaxId => _pieces.Length - 1;
    public string? UnkToken => _unkId is int u ? _pieces[u] : null;
    public int? TokenToId(string token) => _ids.TryGetValue(token, out int id) ? id : null;
    public string? IdToToken(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id] : null;

    /// <summary>A tokenizer.json model {"type": "Unigram", "unk_id", "vocab": [[piece, score], ...], "byte_fallback"}.</summary>
    public static UnigramModel Parse(JsonElement j, string where = "model")
    {
        int? unkId = j.Optional("unk_id") is null ? null : j.RequiredInt("unk_id", where);
        return new UnigramModel(ParseVocab(j, where), unkId, j.OptionalBool("byte_fallback", false, where));
    }

    /// <summary>The "vocab" of a tokenizer.json Unigram model: pieces by id with their scores.</summary>
    public static List<(string Piece, double Score)> ParseVocab(JsonElement j, string where = "model")
    {
        var vocab = new List<(string, double)>();
        int i = 0;
        foreach (var entry in j.RequiredArray("vocab", where))
        {
            if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2 || entry[0].ValueKind != JsonValueKind.String
                || entry[1].ValueKind != JsonValueKind.Number)
                throw new TokenizerFormatException($"{where}.vocab[{i}]: must be [piece, score]");
            vocab.Add((entry[0].GetString()!, entry[1].GetDouble()));
            i++;
        }
        return vocab;
    }

    public void Tokenize(string piece, List<int> output)
    {
        if (piece.Length == 0) return;
        foreach (var (start, end, id) in BestPath(piece))
        {
            if (id != _unkId)
            {
                output.Add(id);
                continue;
            }
            // An unknown run: its own piece if the vocab has it (a fused run can spell one), else bytes, else unk.
            string text = piece[start..end];
            if (_ids.TryGetValue(text, out int known)) output.Add(known);
            else if (!(_byteFallback && TryAddBytes(text, output))) output.Add(_unkId.Value);
        }
    }

    /// <summary>The best segmentation as (start, end, id) in order, consecutive unknowns fused into one.</summary>
    List<(int Start, int End, int Id)> BestPath(string text)
    {
        int n = text.Length;
        var score = new double[n + 1];
        var from = new int[n + 1];
        var id = new int[n + 1];
        Array.Fill(from, -1);
        for (int start = 0; start < n; start = Next(text, start))
        {
            double here = score[start];
            int charEnd = Next(text, start);
            bool single = false;
            int node = 0;
            for (int pos = start; pos < n && _edges.TryGetValue(Edge(node, text[pos]), out node); pos++)
            {
                int piece = _pieceAtNode[node];
                if (piece < 0) continue;
                int end = pos + 1;
                if (end == charEnd) single = true;
                Relax(end, here + _scores[piece], start, piece);
            }
            if (!single)
                Relax(charEnd, here + _unkScore, start, _unkId ?? throw new QzoException(
                    $"tokenizer: the Unigram model has no unk_id, but \"{text[start..charEnd]}\" is in no piece"));
        }

        var path = new List<(int, int, int)>();
        for (int end = n; end > 0; end = from[end])
        {
            int start = from[end];
            if (id[end] == _unkId && path.Count > 0 && path[^1].Item3 == _unkId) path[^1] = (start, path[^1].Item2, id[end]);
            else path.Add((start, end, id[end]));
        }
        path.Reverse();
        return path;

        void Relax(int end, double candidate, int start, int piece)
        {
            if (from[end] >= 0 && !(candidate > score[end])) return;
            score[end] = candidate;
            from[end] = start;
            id[end] = piece;
        }
    }

    static int Next(string text, int i) => char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])
        ? i + 2 : i + 1;

    bool TryAddBytes(string text, List<int> output)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new int[bytes.Length];
        for (int k = 0; k < bytes.Length; k++)
            if (!_ids.TryGetValue($"<0x{bytes[k]:X2}>", out ids[k])) return false;
        output.AddRange(ids);
        return true;
    }
}
