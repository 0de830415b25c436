namespace Qzo.Text;

/// <summary>
/// A small deterministic BPE trainer: the most frequent adjacent pair of symbols (ties: lower symbol indices first)
/// is merged until the budget is spent or no pair occurs twice. Two ways in: SentencePiece/HF style, where words are
/// the corpus split before each "▁" and, like Llama-2's SentencePiece model, control characters get no token (they
/// fall back to bytes); or words already cut into symbols over a fixed alphabet (CLIP's byte characters, the last one
/// carrying "&lt;/w&gt;"). Either way digits never merge.
/// </summary>
internal sealed class BpeTrainer
{
    readonly List<string> _symbols = [];
    readonly Dictionary<string, int> _symbolIndex = new(StringComparer.Ordinal);
    readonly List<(int[] Symbols, long Count)> _words = [];
    readonly Dictionary<long, long> _pairCounts = [];
    readonly Dictionary<long, HashSet<int>> _pairWords = [];
    readonly SortedSet<(long Count, int Left, int Right)> _queue = new(Comparer<(long Count, int Left, int Right)>.Create((x, y) =>
        x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Left != y.Left ? x.Left.CompareTo(y.Left) : x.Right.CompareTo(y.Right)));
    readonly Dictionary<long, long> _queued = [];
    readonly HashSet<string> _forbidden;
    /// <summary>Whether a merge must create a token that does not exist yet (CLIP's vocab has one new entry per merge).</summary>
    readonly bool _distinctTokens;

    /// <summary>Characters chosen for the vocab, most frequent first (or the alphabet given).</summary>
    public IReadOnlyList<string> Alphabet { get; }
    /// <summary>Merges in rank order, and the new tokens they created (a merge may recreate an existing token).</summary>
    public List<(string Left, string Right)> Merges { get; } = [];
    public List<string> NewTokens { get; } = [];

    /// <param name="normalizedLines">Corpus lines already normalized ("▁" prefix, spaces as "▁").</param>
    /// <param name="budget">Vocab entries available for characters and merged tokens together.</param>
    /// <param name="forbidden">Token strings a merge must never produce (special and byte tokens).</param>
    public BpeTrainer(IEnumerable<string> normalizedLines, int budget, IEnumerable<string> forbidden, string forcedFirst)
    {
        _forbidden = new HashSet<string>(forbidden, StringComparer.Ordinal);
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        var charCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in normalizedLines)
        {
            foreach (var word in SplitWords(line)) wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
            foreach (var rune in line.EnumerateRunes())
                if (!System.Text.Rune.IsControl(rune)) charCounts[rune.ToString()] = charCounts.GetValueOrDefault(rune.ToString()) + 1;
        }
        charCounts[forcedFirst] = long.MaxValue;
        Alphabet = charCounts.Where(kv => !_forbidden.Contains(kv.Key))
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(budget).Select(kv => kv.Key).ToList();
        AddWords(wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (kv.Key.EnumerateRunes().Select(r => r.ToString()).ToArray(), kv.Value)));
        Train(budget - Alphabet.Count);
    }

    BpeTrainer(IReadOnlyList<string> alphabet, IEnumerable<(string[] Symbols, long Count)> words, int merges)
    {
        _forbidden = [];
        _distinctTokens = true;
        Alphabet = alphabet;
        AddWords(words);
        Train(merges);
    }

    /// <summary>
    /// Trains on words already cut into symbols of <paramref name="alphabet"/> (each word once, with its count; symbols
    /// outside the alphabet never merge), learning at most <paramref name="merges"/> merges, each of which creates a new
    /// token.
    /// </summary>
    public static BpeTrainer FromSymbols(IReadOnlyList<string> alphabet, IEnumerable<(string[] Symbols, long Count)> words, int merges) =>
        new(alphabet, words, merges);

    void AddWords(IEnumerable<(string[] Symbols, long Count)> words)
    {
        foreach (var c in Alphabet) AddSymbol(c);
        foreach (var (word, count) in words)
        {
            var symbols = word.Select(s => _symbolIndex.TryGetValue(s, out int i) ? i : -1).ToArray();
            _words.Add((symbols, count));
            AddPairs(_words.Count - 1, +1);
        }
        FlushQueue();
    }

    /// <summary>How often each token occurs in the corpus as the learned merges leave it segmented.</summary>
    public Dictionary<string, long> SegmentCounts()
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (symbols, count) in _words)
            foreach (int s in symbols)
                if (s >= 0) counts[_symbols[s]] = counts.GetValueOrDefault(_symbols[s]) + count;
        return counts;
    }

    static IEnumerable<string> SplitWords(string line)
    {
        int start = 0;
        for (int i = line.IndexOf('▁', 1); i > 0; i = line.IndexOf('▁', i + 1))
        {
            yield return line[start..i];
            start = i;
        }
        if (start < line.Length) yield return line[start..];
    }

    int AddSymbol(string s)
    {
        if (_symbolIndex.TryGetValue(s, out int i)) return i;
        _symbols.Add(s);
        return _symbolIndex[s] = _symbols.Count - 1;
    }

    bool Mergeable(int left, int right) =>
        left >= 0 && right >= 0 && !_symbols[left].Any(char.IsAsciiDigit) && !_symbols[right].Any(char.IsAsciiDigit)
        && !_banned.Contains(BpeMerger.Key(left, right));

    readonly HashSet<long> _banned = [];

    void AddPairs(int word, int sign)
    {
        var (symbols, count) = _words[word];
        for (int i = 0; i + 1 < symbols.Length; i++)
        {
            if (!Mergeable(symbols[i], symbols[i + 1])) continue;
            long key = BpeMerger.Key(symbols[i], symbols[i + 1]);
            _pairCounts[key] = _pairCounts.GetValueOrDefault(key) + sign * count;
            if (sign > 0)
            {
                if (!_pairWords.TryGetValue(key, out var set)) _pairWords[key] = set = [];
                set.Add(word);
            }
            _dirty.Add(key);
        }
    }

    readonly HashSet<long> _dirty = [];

    /// <summary>Brings the priority queue in line with the pair counts changed since the last flush.</summary>
    void FlushQueue()
    {
        foreach (long key in _dirty)
        {
            int left = (int)(key >> 32), right = (int)(uint)key;
            if (_queued.Remove(key, out long old)) _queue.Remove((old, left, right));
            long count = _pairCounts.GetValueOrDefault(key);
            if (count > 0)
            {
                _queue.Add((count, left, right));
                _queued[key] = count;
            }
        }
        _dirty.Clear();
    }

    void Train(int remaining)
    {
        while (remaining > 0 && _queue.Count > 0)
        {
            var (count, left, right) = _queue.Min;
            if (count < 2) break;
            long key = BpeMerger.Key(left, right);
            _queue.Remove(_queue.Min);
            _queued.Remove(key);
            string merged = _symbols[left] + _symbols[right];
            if (_forbidden.Contains(merged) || (_distinctTokens && _symbolIndex.ContainsKey(merged)))
            {
                // never merge into a special or byte token's spelling (nor, where asked, into any existing token)
                _banned.Add(key);
                _pairCounts.Remove(key);
                continue;
            }
            bool isNew = !_symbolIndex.ContainsKey(merged);
            int target = AddSymbol(merged);
            Merges.Add((_symbols[left], _symbols[right]));
            if (isNew)
            {
                NewTokens.Add(merged);
                remaining--;
            }
            foreach (int w in _pairWords[key].Order())
            {
                AddPairs(w, -1);
                _words[w] = (MergeWord(_words[w].Symbols, left, right, target), _words[w].Count);
                AddPairs(w, +1);
            }
            _pairWords.Remove(key);
            FlushQueue();
        }
    }

    static int[] MergeWord(int[] symbols, int left, int right, int target)
    {
        var result = new List<int>(symbols.Length);
        for (int i = 0; i < symbols.Length; i++)
        {
            if (i + 1 < symbols.Length && symbols[i] == left && symbols[i + 1] == right)
            {
                result.Add(target);
                i++;
            }
            else result.Add(symbols[i]);
        }
        return result.ToArray();
    }
}
