using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Qzo.Text;

internal sealed record AddedToken(int Id, string Content, bool SingleWord, bool LStrip, bool RStrip, bool Normalized, bool Special);

/// <summary>A piece of input after added tokens are split out: either an added token's id, or text for the model.</summary>
internal readonly record struct Segment(string Text, bool AtStart, int AddedId)
{
    public bool IsAddedToken => AddedId >= 0;
}

/// <summary>
/// HF's AddedVocabulary (tokenizer/added_vocabulary.rs): tokens matched verbatim, leftmost-longest, before the model.
/// Tokens with normalized=false are matched in the raw text; the remaining text is normalized piece by piece and then
/// searched for the normalized=true tokens (in their normalized form).
/// </summary>
internal sealed class AddedVocabulary
{
    readonly Dictionary<string, int> _idByContent = new(StringComparer.Ordinal);
    readonly Dictionary<int, string> _decodeAs = [];
    readonly HashSet<string> _specialContents = new(StringComparer.Ordinal);
    readonly Matcher _raw, _normalizedMatcher;

    public AddedVocabulary(IReadOnlyList<AddedToken> tokens, INormalizer? normalizer)
    {
        var raw = new List<(string, AddedToken)>();
        var normalized = new List<(string, AddedToken)>();
        foreach (var t in tokens)
        {
            if (t.Content.Length == 0) continue;
            _idByContent[t.Content] = t.Id;
            if (t.Special) _specialContents.Add(t.Content);
            // HF matches (and decodes) a normalized token by its normalized form.
            string pattern = t.Normalized && normalizer is not null ? normalizer.Normalize(t.Content) : t.Content;
            _decodeAs[t.Id] = pattern;
            (t.Normalized ? normalized : raw).Add((pattern, t));
        }
        _raw = new Matcher(raw);
        _normalizedMatcher = new Matcher(normalized);
        MaxId = tokens.Count == 0 ? -1 : tokens.Max(t => t.Id);
    }

    public int MaxId { get; }
    public int? TokenToId(string content) => _idByContent.TryGetValue(content, out int id) ? id : null;
    public string? DecodeString(int id) => _decodeAs.GetValueOrDefault(id);
    public bool IsSpecial(string token) => _specialContents.Contains(token);

    public static List<AddedToken> Parse(JsonElement? json, string where = "added_tokens")
    {
        var list = new List<AddedToken>();
        if (json is not { } j) return list;
        if (j.ValueKind != JsonValueKind.Array) throw new TokenizerFormatException($"{where} must be an array");
        int i = 0;
        foreach (var t in j.EnumerateArray())
        {
            string w = $"{where}[{i++}]";
            bool special = t.OptionalBool("special", false, w);
            list.Add(new AddedToken(t.RequiredInt("id", w), t.RequiredString("content", w), t.OptionalBool("single_word", false, w),
                t.OptionalBool("lstrip", false, w), t.OptionalBool("rstrip", false, w), t.OptionalBool("normalized", !special, w),
                    special));
        }
        return list;
    }

    /// <summary>HF extract_and_normalize: added tokens out, everything else normalized; empty pieces dropped.</summary>
    public List<Segment> SplitAndNormalize(string text, INormalizer? normalizer)
    {
        var result = new List<Segment>();
        foreach (var (start, end, id) in FindMatches(text, _raw))
        {
            if (id >= 0)
            {
                result.Add(new Segment(text[start..end], false, id));
                continue;
            }
            string piece = text[start..end];
            string normalized = normalizer?.Normalize(piece) ?? piece;
            foreach (var (s, e, nid) in FindMatches(normalized, _normalizedMatcher))
                if (e > s) result.Add(new Segment(normalized[s..e], nid < 0 && start == 0 && s == 0, nid));
        }
        return result;
    }

    /// <summary>HF find_matches: (start, end, id or -1) covering the text, with single_word / lstrip / rstrip applied.</summary>
    static List<(int Start, int End, int Id)> FindMatches(string text, Matcher matcher)
    {
        var splits = new List<(int, int, int)>();
        int offset = 0;
        foreach (var (matchStart, matchEnd, token) in matcher.FindAll(text))
        {
            int start = matchStart, stop = matchEnd;
            if (token.SingleWord && ((start > 0 && EndsWithWordChar(text, start))
                || (stop < text.Length && StartsWithWordChar(text, stop))))
                continue;
            if (token.LStrip)
            {
                int s = start;
                while (s > 0 && char.IsWhiteSpace(text[s - 1])) s--;
                start = Math.Max(s, offset);
            }
            if (token.RStrip)
                while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
            if (offset < start) splits.Add((offset, start, -1));
            splits.Add((start, stop, token.Id));
            offset = stop;
        }
        if (offset < text.Length) splits.Add((offset, text.Length, -1));
        return splits;
    }

    static bool EndsWithWordChar(string text, int end) =>
        Rune.DecodeLastFromUtf16(text.AsSpan(0, end), out var r, out _) == System.Buffers.OperationStatus.Done && IsWordChar(r);

    static bool StartsWithWordChar(string text, int start) =>
        Rune.DecodeFromUtf16(text.AsSpan(start), out var r, out _) == System.Buffers.OperationStatus.Done && IsWordChar(r);

    /// <summary>
    /// Approximates Rust regex's Unicode \w: letters, marks, decimal digits, letter numbers, connector punctuation, joiners.
    /// </summary>
    static bool IsWordChar(Rune r)
    {
        if (r.Value is 0x200C or 0x200D) return true;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }

    /// <summary>Leftmost-longest search over a small set of literal patterns (what HF's Aho-Corasick trie does).</summary>
    sealed class Matcher
    {
        readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;

        public Matcher(List<(string Pattern, AddedToken Token)> patterns)
        {
            // A later token with the same pattern wins, as HF's map insertion does.
            var unique = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
            foreach (var (p, t) in patterns) if (p.Length > 0) unique[p] = t;
            _byFirstChar = unique.GroupBy(kv => kv.Key[0])
                .ToDictionary(g => g.Key, g => g.OrderByDescending(kv => kv.Key.Length).Select(kv => (kv.Key, kv.Value)).ToArray());
        }

        public IEnumerable<(int Start, int End, AddedToken Token)> FindAll(string text)
        {
            if (_byFirstChar.Count == 0) yield break;
            for (int i = 0; i < text.Length;)
            {
                if (_byFirstChar.TryGetValue(text[i], out var candidates))
                {
                    bool found = false;
                    foreach (var (pattern, token) in candidates)
                    {
                        if (text.AsSpan(i).StartsWith(pattern, StringComparison.Ordinal))
                        {
                            yield return (i, i + pattern.Length, token);
                            i += pattern.Length;
                            found = true;
                            break;
                        }
                    }
                    if (found) continue;
                }
                i++;
            }
        }
    }
}
