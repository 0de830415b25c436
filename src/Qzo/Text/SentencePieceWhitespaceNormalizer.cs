namespace Qzo.Text;

/// <summary>
/// SentencePiece's remove_extra_whitespaces, first half: leading spaces dropped, runs of spaces inside collapsed to
/// one. Only U+0020 counts (with the identity normalization rule nothing else becomes a space). The second half,
/// <see cref="TrimEndNormalizer"/>, runs after spaces are escaped, as SentencePiece strips the trailing escaped spaces
/// (which also removes "▁" characters the text itself ends with, and the dummy prefix of an all-space text).
/// </summary>
internal sealed class SentencePieceWhitespaceNormalizer : INormalizer
{
    public string Normalize(string text)
    {
        var trimmed = text.AsSpan().TrimStart(' ');
        if (trimmed.IndexOf("  ") < 0) return trimmed.Length == text.Length ? text : trimmed.ToString();
        var sb = new System.Text.StringBuilder(trimmed.Length);
        for (int i = 0; i < trimmed.Length; i++)
            if (trimmed[i] != ' ' || i == 0 || trimmed[i - 1] != ' ') sb.Append(trimmed[i]);
        return sb.ToString();
    }
}

/// <summary>Removes every trailing copy of one character.</summary>
internal sealed class TrimEndNormalizer(char trailing) : INormalizer
{
    public string Normalize(string text) => text.TrimEnd(trailing);
}
