using System.Text.Json;
using System.Text.RegularExpressions;

namespace Qzo.Text;

internal enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>
/// HF Split (pre_tokenizers/split.rs): cuts a piece at the matches of a string or regex, keeping the matches per the behavior.
/// </summary>
internal sealed class SplitPreTokenizer(OnigRegex regex, SplitBehavior behavior, bool invert) : IPreTokenizer
{
    public static SplitPreTokenizer Parse(JsonElement j, string where)
    {
        var pattern = j.Required("pattern", where);
        OnigRegex regex = pattern.Optional("Regex") is { ValueKind: JsonValueKind.String } r ? new OnigRegex(r.GetString()!, where)
            : pattern.Optional("String") is { ValueKind: JsonValueKind.String } s ? new OnigRegex(Regex.Escape(s.GetString()!), where)
            : throw new TokenizerFormatException($"{where}: \"pattern\" must be {{\"String\": ...}} or {{\"Regex\": ...}}");
        string behaviorName = j.RequiredString("behavior", where);
        var behavior = Enum.TryParse<SplitBehavior>(behaviorName, ignoreCase: false, out var b) && Enum.IsDefined(b) ? b
            : throw new TokenizerFormatException($"{where}: unknown Split behavior \"{behaviorName}\"");
        return new SplitPreTokenizer(regex, behavior, j.OptionalBool("invert", false, where));
    }

    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        foreach (var (start, end) in Split(piece.Text))
            if (end > start) output.Add(new PreToken(piece.Text[start..end], piece.AtStart && start == 0));
    }

    /// <summary>HF NormalizedString::split: the (start, end) ranges kept, in order.</summary>
    List<(int Start, int End)> Split(string text)
    {
        var pieces = new List<(int Start, int End, bool IsMatch)>();
        int previous = 0;
        foreach (var (start, length) in regex.Matches(text))
        {
            if (previous < start) pieces.Add((previous, start, invert));
            pieces.Add((start, start + length, !invert));
            previous = start + length;
        }
        if (previous < text.Length || pieces.Count == 0) pieces.Add((previous, text.Length, invert));

        var kept = new List<(int Start, int End)>(pieces.Count);
        bool previousMatch = false;
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var p in pieces) kept.Add((p.Start, p.End));
                break;
            case SplitBehavior.Removed:
                foreach (var p in pieces) if (!p.IsMatch) kept.Add((p.Start, p.End));
                break;
            case SplitBehavior.Contiguous:
                foreach (var p in pieces)
                {
                    if (p.IsMatch == previousMatch && kept.Count > 0) kept[^1] = (kept[^1].Start, p.End);
                    else kept.Add((p.Start, p.End));
                    previousMatch = p.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithPrevious:
                foreach (var p in pieces)
                {
                    if (p.IsMatch && !previousMatch && kept.Count > 0) kept[^1] = (kept[^1].Start, p.End);
                    else kept.Add((p.Start, p.End));
                    previousMatch = p.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithNext:
                for (int i = pieces.Count - 1; i >= 0; i--)
                {
                    var p = pieces[i];
                    if (p.IsMatch && !previousMatch && kept.Count > 0) kept[^1] = (p.Start, kept[^1].End);
                    else kept.Add((p.Start, p.End));
                    previousMatch = p.IsMatch;
                }
                kept.Reverse();
                break;
        }
        return kept;
    }
}
