namespace Qzo.Text;

/// <summary>
/// SentencePiece's remove_extra_whitespaces: leading and trailing spaces dropped, runs of spaces inside collapsed to
/// one. Only U+0020 counts (with the identity normalization rule nothing else becomes a space).
/// </summary>
internal sealed class SentencePieceWhitespaceNormalizer : INormalizer
{
    public string Normalize(string text)
    {
        var trimmed = text.AsSpan().Trim(' ');
        if (trimmed.IndexOf("  ") < 0) return trimmed.Length == text.Length ? text : trimmed.ToString();
        var sb = new System.Text.StringBuilder(trimmed.Length);
        for (int i = 0; i < trimmed.Length; i++)
            if (trimmed[i] != ' ' || trimmed[i - 1] != ' ') sb.Append(trimmed[i]);
        return sb.ToString();
    }
}
