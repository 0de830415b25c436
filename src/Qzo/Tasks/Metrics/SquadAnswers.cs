using System.Text;
using System.Text.RegularExpressions;

namespace Qzo.Tasks.Metrics;

/// <summary>
/// The SQuAD v1.1 evaluation script's answer normalization, exact match and token F1 (as MeZO uses for SQuAD and
/// DROP): lower-case, remove ASCII punctuation, remove the articles a/an/the, collapse whitespace; a prediction
/// scores its best against any gold answer.
/// </summary>
public static partial class SquadAnswers
{
    const string Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"; // Python's string.punctuation

    [GeneratedRegex(@"\b(a|an|the)\b")]
    private static partial Regex Articles();

    public static string Normalize(string text)
    {
        var noPunctuation = new StringBuilder(text.Length);
        foreach (char c in text.ToLowerInvariant())
            if (!Punctuation.Contains(c)) noPunctuation.Append(c);
        return string.Join(' ', Tokens(Articles().Replace(noPunctuation.ToString(), " ")));
    }

    public static double ExactMatch(string prediction, IEnumerable<string> golds) =>
        golds.Any(g => Normalize(prediction) == Normalize(g)) ? 1.0 : 0.0;

    public static double F1(string prediction, IEnumerable<string> golds) =>
        golds.Select(g => F1(prediction, g)).DefaultIfEmpty(0).Max();

    public static double F1(string prediction, string gold)
    {
        var predicted = Tokens(Normalize(prediction));
        var expected = Tokens(Normalize(gold));
        var counts = expected.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        int same = 0;
        foreach (var token in predicted)
            if (counts.TryGetValue(token, out int n) && n > 0) { counts[token] = n - 1; same++; }
        if (same == 0) return 0;
        double precision = (double)same / predicted.Length, recall = (double)same / expected.Length;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>Python's str.split(): runs of whitespace, which also counts the separators U+001C..U+001F.</summary>
    static string[] Tokens(string text) =>
        text.Split(text.Where(c => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f').Distinct().ToArray(),
            StringSplitOptions.RemoveEmptyEntries);
}
