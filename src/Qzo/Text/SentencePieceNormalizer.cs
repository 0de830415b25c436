using System.Runtime.InteropServices;
using System.Text;

namespace Qzo.Text;

/// <summary>
/// SentencePiece's own Normalizer::Normalize (normalizer.cc), over UTF-8 bytes: at each position the longest rule of
/// the precompiled character map (none: the character itself); with remove_extra_whitespaces, leading spaces are
/// dropped, runs collapse to one and trailing ones are trimmed; add_dummy_prefix puts one space first; with
/// escape_whitespaces every space becomes "▁". This is what spm_encode does before the model runs; transformers'
/// classes use <see cref="PrecompiledNormalizer"/> and whitespace pre-tokenizers instead.
/// </summary>
internal sealed class SentencePieceNormalizer(PrecompiledCharsMap? map, bool addDummyPrefix, bool removeExtraWhitespaces,
    bool escapeWhitespaces) : INormalizer
{
    static readonly byte[] SpaceSymbol = Encoding.UTF8.GetBytes(TokenizerClasses.Space);

    public string Normalize(string text)
    {
        var input = Encoding.UTF8.GetBytes(text);
        int pos = 0;
        if (removeExtraWhitespaces)
        {
            while (pos < input.Length)
            {
                var (replacement, length) = NormalizePrefix(input.AsSpan(pos));
                if (replacement is not [(byte)' ']) break;
                pos += length;
            }
        }
        if (pos == input.Length) return "";

        var output = new List<byte>(input.Length * 3);
        if (addDummyPrefix) AppendSpace(output);
        bool previousIsSpace = removeExtraWhitespaces;
        while (pos < input.Length)
        {
            var (replacement, length) = NormalizePrefix(input.AsSpan(pos));
            var sp = replacement.AsSpan();
            if (previousIsSpace) sp = sp.TrimStart((byte)' ');
            if (!sp.IsEmpty)
            {
                foreach (byte b in sp)
                {
                    if (b == ' ') AppendSpace(output);
                    else output.Add(b);
                }
                previousIsSpace = sp[^1] == ' ';
            }
            pos += length;
            if (!removeExtraWhitespaces) previousIsSpace = false;
        }
        if (removeExtraWhitespaces)
        {
            byte[] space = escapeWhitespaces ? SpaceSymbol : [(byte)' '];
            while (output.Count >= space.Length && CollectionsMarshal.AsSpan(output)[^space.Length..].SequenceEqual(space))
                output.RemoveRange(output.Count - space.Length, space.Length);
        }
        return Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(output));
    }

    void AppendSpace(List<byte> output)
    {
        if (escapeWhitespaces) output.AddRange(SpaceSymbol);
        else output.Add((byte)' ');
    }

    /// <summary>NormalizePrefix: the replacement of the longest rule at the start of the input and the bytes it consumes.</summary>
    (byte[] Replacement, int Length) NormalizePrefix(ReadOnlySpan<byte> input)
    {
        if (map?.LongestPrefixMatch(input) is var (length, replacement)) return (Encoding.UTF8.GetBytes(replacement), length);
        // The input came from a .NET string, so it is valid UTF-8: one whole character.
        int charLength = input[0] < 0x80 ? 1 : input[0] < 0xE0 ? 2 : input[0] < 0xF0 ? 3 : 4;
        return (input[..charLength].ToArray(), charLength);
    }
}
