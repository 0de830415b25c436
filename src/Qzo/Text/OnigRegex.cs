using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Qzo.Text;

/// <summary>
/// A tokenizer.json regex (written for the Oniguruma engine HF tokenizers uses) run by .NET's engine, with the two
/// differences that change pre-tokenization fixed:
/// <list type="bullet">
/// <item>.NET matches UTF-16 code units, so a letter or digit outside the BMP (𝐁, 𠀀) is not <c>\p{L}</c> / <c>\p{N}</c>
/// there. Text with surrogate pairs is matched through a shadow string in which each pair is one BMP character of
/// the same Unicode category; match offsets are mapped back.</item>
/// <item>Oniguruma's case-insensitive <c>s</c> and <c>k</c> also match U+017F ſ and U+212A K (Unicode case folding);
/// .NET's do not. Inside <c>(?i)</c> scopes those literals are widened.</item>
/// </list>
/// Character classes with ranges inside <c>(?i)</c> are not widened; no tokenizer pattern in use has one.
/// </summary>
internal sealed class OnigRegex
{
    readonly Regex _regex;

    public OnigRegex(string pattern, string where)
    {
        Pattern = pattern;
        try { _regex = new Regex(Translate(pattern), RegexOptions.CultureInvariant | RegexOptions.Compiled); }
        catch (ArgumentException e)
            { throw new TokenizerFormatException($"{where}: regex {pattern} is not supported by .NET ({e.Message})"); }
    }

    public string Pattern { get; }

    /// <summary>Non-empty matches, left to right, as (start, length) in <paramref name="text"/>.</summary>
    public List<(int Start, int Length)> Matches(string text)
    {
        var result = new List<(int, int)>();
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (Match m in _regex.Matches(text)) if (m.Length > 0) result.Add((m.Index, m.Length));
            return result;
        }
        var (shadow, originalIndex) = Shadow(text);
        foreach (Match m in _regex.Matches(shadow))
        {
            if (m.Length == 0) continue;
            int start = originalIndex[m.Index], end = originalIndex[m.Index + m.Length];
            result.Add((start, end - start));
        }
        return result;
    }

    /// <summary>Each surrogate pair replaced by one stand-in character; originalIndex maps shadow offsets (and the end) back.</summary>
    static (string Shadow, int[] OriginalIndex) Shadow(string text)
    {
        var shadow = new StringBuilder(text.Length);
        var originalIndex = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            originalIndex.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]));
                shadow.Append(StandIns[(int)category]);
                i++;
            }
            else shadow.Append(text[i]);
        }
        originalIndex.Add(text.Length);
        return (shadow.ToString(), originalIndex.ToArray());
    }

    /// <summary>
    /// Per Unicode category, the highest BMP character below the surrogates (else above them) that has it and is not
    /// white space: obscure enough that no tokenizer pattern names it. U+FFFD where there is none.
    /// </summary>
    static readonly char[] StandIns = BuildStandIns();

    static char[] BuildStandIns()
    {
        var standIns = new char[32];
        Array.Fill(standIns, '\uFFFD');
        var found = new bool[32];
        foreach (var (from, to) in new[] { (0xD7FF, 0x80), (0xFFFD, 0xE000) }) // private use (Co) lives above the surrogates
        {
            for (int c = from; c >= to; c--)
            {
                int category = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
                if (found[category] || char.IsWhiteSpace((char)c)) continue;
                standIns[category] = (char)c;
                found[category] = true;
            }
        }
        return standIns;
    }

    /// <summary>Widens s/S and k/K literals inside case-insensitive scopes to include ſ and K (see the class summary).</summary>
    internal static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var scopes = new Stack<bool>();
        bool ignoreCase = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '\\':
                    i = CopyEscape(pattern, i, sb);
                    break;
                case '[':
                    i = CopyClass(pattern, i, sb, ignoreCase);
                    break;
                case '(':
                    scopes.Push(ignoreCase);
                    sb.Append(c);
                    if (pattern.AsSpan(i).StartsWith("(?i:")) ignoreCase = true;
                    else if (pattern.AsSpan(i).StartsWith("(?-i:")) ignoreCase = false;
                    else if (pattern.AsSpan(i).StartsWith("(?i)")) { ignoreCase = true; scopes.Pop(); sb.Append("?i)"); i += 3; }
                    else if (pattern.AsSpan(i).StartsWith("(?-i)")) { ignoreCase = false; scopes.Pop(); sb.Append("?-i)"); i += 4; }
                    break;
                case ')':
                    if (scopes.Count > 0) ignoreCase = scopes.Pop();
                    sb.Append(c);
                    break;
                default:
                    sb.Append(ignoreCase ? Widened(c) ?? c.ToString() : c.ToString());
                    break;
            }
        }
        return sb.ToString();
    }

    static string? Widened(char c) => c switch
    {
        's' or 'S' => "[sS\u017F]",
        'k' or 'K' => "[kK\u212A]",
        _ => null,
    };

    /// <summary>Copies one escape (\p{..}, \x{..} or a backslash and one character); returns the index of its last character.</summary>
    static int CopyEscape(string pattern, int i, StringBuilder sb)
    {
        int end = Math.Min(i + 1, pattern.Length - 1);
        if (i + 2 < pattern.Length && pattern[i + 1] is 'p' or 'P' or 'x' && pattern[i + 2] == '{')
        {
            int close = pattern.IndexOf('}', i + 2);
            if (close > 0) end = close;
        }
        sb.Append(pattern, i, end - i + 1);
        return end;
    }

    /// <summary>Copies a [...] class (adding ſ / K for s / k literals when case-insensitive); returns the index of its ']'.</summary>
    static int CopyClass(string pattern, int i, StringBuilder sb, bool ignoreCase)
    {
        int start = i;
        var extra = new StringBuilder();
        i++;
        if (i < pattern.Length && pattern[i] == '^') i++;
        if (i < pattern.Length && pattern[i] == ']') i++; // a leading ']' is a literal
        int depth = 1;
        for (; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\') { i = SkipEscape(pattern, i); continue; }
            if (c == '[') depth++;
            else if (c == ']' && --depth == 0) break;
            else if (ignoreCase && depth == 1 && Widened(c) is not null) extra.Append(c is 's' or 'S' ? '\u017F' : '\u212A');
        }
        if (i >= pattern.Length) { sb.Append(pattern, start, pattern.Length - start); return pattern.Length - 1; }
        sb.Append(pattern, start, i - start).Append(extra).Append(']');
        return i;
    }

    static int SkipEscape(string pattern, int i) => CopyEscape(pattern, i, new StringBuilder());
}
