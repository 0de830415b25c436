using System.Text;
using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// A piece of normalized text on its way to the model. <see cref="AtStart"/>: it begins at offset 0 of the
/// original input (HF's <c>offsets_original().0 == 0</c>, used by Metaspace's prepend_scheme "first").
/// </summary>
internal readonly record struct PreToken(string Text, bool AtStart);

/// <summary>A tokenizer.json "pre_tokenizer": splits (and may rewrite) normalized pieces into model inputs.</summary>
internal interface IPreTokenizer
{
    void PreTokenize(PreToken piece, List<PreToken> output);
}

internal static class PreTokenizers
{
    public static IPreTokenizer? Parse(JsonElement? json, string where = "pre_tokenizer")
    {
        if (json is not { } j) return null;
        string type = j.TypeOf(where);
        return type switch
        {
            "Sequence" => new SequencePreTokenizer(j.RequiredArray("pretokenizers",
                where).Select((p, i) => Parse(p, $"{where}.pretokenizers[{i}]")!).ToArray()),
            "Metaspace" => MetaspacePreTokenizer.Parse(j, where),
            "ByteLevel" => ByteLevelPreTokenizer.Parse(j, where),
            "Split" => SplitPreTokenizer.Parse(j, where),
            "WhitespaceSplit" => new WhitespaceSplitPreTokenizer(),
            _ => throw new TokenizerFormatException($"{where}: unsupported pre_tokenizer type \"{type}\""),
        };
    }
}

internal sealed class SequencePreTokenizer(IPreTokenizer[] steps) : IPreTokenizer
{
    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        var current = new List<PreToken> { piece };
        var next = new List<PreToken>();
        foreach (var step in steps)
        {
            next.Clear();
            foreach (var p in current) step.PreTokenize(p, next);
            (current, next) = (next, current);
        }
        output.AddRange(current);
    }
}

/// <summary>HF WhitespaceSplit: pieces between runs of Unicode White_Space, which are dropped.</summary>
internal sealed class WhitespaceSplitPreTokenizer : IPreTokenizer
{
    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        string text = piece.Text;
        for (int i = 0; i < text.Length;)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            int start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            if (i > start) output.Add(new PreToken(text[start..i], piece.AtStart && start == 0));
        }
    }
}

internal enum PrependScheme { First, Never, Always }

/// <summary>
/// HF Metaspace: spaces become the replacement character, which is prepended per the scheme; optional split before each replacement.
/// </summary>
internal sealed class MetaspacePreTokenizer(Rune replacement, PrependScheme scheme, bool split) : IPreTokenizer
{
    readonly string _rep = replacement.ToString();

    public static MetaspacePreTokenizer Parse(JsonElement j, string where) =>
        new(j.RequiredRune("replacement", where), ParseScheme(j, where), j.OptionalBool("split", true, where));

    /// <summary>prepend_scheme (default "always"); the legacy add_prefix_space:false means "never".</summary>
    public static PrependScheme ParseScheme(JsonElement j, string where)
    {
        var scheme = j.OptionalString("prepend_scheme", where) switch
        {
            null or "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            var s => throw new TokenizerFormatException($"{where}: unknown prepend_scheme \"{s}\""),
        };
        if (!j.OptionalBool("add_prefix_space", true, where))
        {
            if (j.Optional("prepend_scheme") is not null && scheme != PrependScheme.Never)
                throw new TokenizerFormatException($"{where}: add_prefix_space does not match declared prepend_scheme");
            scheme = PrependScheme.Never;
        }
        return scheme;
    }

    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        string text = piece.Text.Replace(" ", _rep, StringComparison.Ordinal);
        bool prepend = scheme switch
        {
            PrependScheme.Always => true,
            PrependScheme.First => piece.AtStart,
            _ => false,
        };
        if (prepend && !text.StartsWith(_rep, StringComparison.Ordinal)) text = _rep + text;
        if (text.Length == 0) return;
        if (!split)
        {
            output.Add(piece with { Text = text });
            return;
        }
        // MergedWithNext: every replacement character starts a new piece.
        int start = 0;
        for (int i = text.IndexOf(_rep, 1, StringComparison.Ordinal); i > 0;
            i = text.IndexOf(_rep, i + _rep.Length, StringComparison.Ordinal))
        {
            output.Add(new PreToken(text[start..i], piece.AtStart && start == 0));
            start = i;
        }
        output.Add(new PreToken(text[start..], piece.AtStart && start == 0));
    }
}
