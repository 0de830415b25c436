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
            "Replace" => new ReplaceNormalizer(j.StringPattern(where), j.RequiredString("content", where)),
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC, type),
            "NFD" => new UnicodeNormalizer(NormalizationForm.FormD, type),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC, type),
            "NFKD" => new UnicodeNormalizer(NormalizationForm.FormKD, type),
            _ => throw new TokenizerFormatException($"{where}: unsupported normalizer type \"{type}\""),
        };
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
