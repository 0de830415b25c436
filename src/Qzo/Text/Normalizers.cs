using System.Text;
using System.Text.Json;

namespace Qzo.Text;

/// <summary>A tokenizer.json "normalizer": rewrites one piece of raw text (HF works piece by piece, between added tokens).</summary>
internal interface INormalizer
{
    string Normalize(string text);
}

internal static class Normalizers
{
    public static INormalizer? Parse(JsonElement? json, string where = "normalizer")
    {
        if (json is not { } j) return null;
        string type = j.TypeOf(where);
        return type switch
        {
            "Sequence" => new SequenceNormalizer(
                j.RequiredArray("normalizers", where).Select((n, i) => Parse(n, $"{where}.normalizers[{i}]")!).ToArray()),
            "Prepend" => new PrependNormalizer(j.RequiredString("prepend", where)),
            "Replace" => j.Required("pattern", where).Optional("Regex") is { ValueKind: JsonValueKind.String } regex
                ? new RegexReplaceNormalizer(new OnigRegex(regex.GetString()!, where), j.RequiredString("content", where))
                : new ReplaceNormalizer(j.StringPattern(where), j.RequiredString("content", where)),
            "Lowercase" => new LowercaseNormalizer(),
            "Precompiled" => ParsePrecompiled(j, where),
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC, type),
            "NFD" => new UnicodeNormalizer(NormalizationForm.FormD, type),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC, type),
            "NFKD" => new UnicodeNormalizer(NormalizationForm.FormKD, type),
            _ => throw new TokenizerFormatException($"{where}: unsupported normalizer type \"{type}\""),
        };
    }

    /// <summary>{"type": "Precompiled", "precompiled_charsmap": base64}; a null or empty map changes nothing.</summary>
    static INormalizer ParsePrecompiled(JsonElement j, string where)
    {
        string? base64 = j.OptionalString("precompiled_charsmap", where);
        if (string.IsNullOrEmpty(base64)) return new SequenceNormalizer([]);
        byte[] blob;
        try { blob = Convert.FromBase64String(base64); }
        catch (FormatException) { throw new TokenizerFormatException($"{where}: precompiled_charsmap is not base64"); }
        return new PrecompiledNormalizer(new PrecompiledCharsMap(blob));
    }
}

internal sealed class SequenceNormalizer(INormalizer[] steps) : INormalizer
{
    public string Normalize(string text)
    {
        foreach (var step in steps) text = step.Normalize(text);
        return text;
    }
}

/// <summary>HF prepends only to non-empty text.</summary>
internal sealed class PrependNormalizer(string prefix) : INormalizer
{
    public string Normalize(string text) => text.Length == 0 ? text : prefix + text;
}

internal sealed class ReplaceNormalizer(string pattern, string content) : INormalizer
{
    public string Normalize(string text) => pattern.Length == 0 ? text : text.Replace(pattern, content, StringComparison.Ordinal);
}

internal sealed class UnicodeNormalizer : INormalizer
{
    readonly NormalizationForm _form;

    public UnicodeNormalizer(NormalizationForm form, string name)
    {
        // Without ICU (InvariantGlobalization, or no libicu on the machine) string.Normalize silently returns
        // non-ASCII text unchanged; refuse rather than tokenize differently from HF.
        if (!IsAvailable)
            throw new TokenizerFormatException(
                $"normalizer {name} needs Unicode normalization, which this .NET runtime lacks (it runs without ICU: " +
                "InvariantGlobalization, or no libicu installed)");
        _form = form;
    }

    public static bool IsAvailable { get; } = "e\u0301".Normalize(NormalizationForm.FormC) == "\u00e9";

    public string Normalize(string text) => text.Normalize(_form);
}

/// <summary>HF Replace with a Regex pattern: every match (Oniguruma syntax, see <see cref="OnigRegex"/>) becomes the content.</summary>
internal sealed class RegexReplaceNormalizer(OnigRegex regex, string content) : INormalizer
{
    public string Normalize(string text)
    {
        var matches = regex.Matches(text);
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        int previous = 0;
        foreach (var (start, length) in matches)
        {
            sb.Append(text, previous, start - previous).Append(content);
            previous = start + length;
        }
        return sb.Append(text, previous, text.Length - previous).ToString();
    }
}

/// <summary>
/// HF Lowercase: each character's full Unicode lowercase mapping (Rust's char::to_lowercase), which is the simple
/// mapping except for U+0130 İ → "i̇" (i + U+0307).
/// </summary>
internal sealed class LowercaseNormalizer : INormalizer
{
    public string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value == 0x130) sb.Append("i\u0307");
            else sb.Append(Rune.ToLowerInvariant(rune).ToString());
        }
        return sb.ToString();
    }
}
