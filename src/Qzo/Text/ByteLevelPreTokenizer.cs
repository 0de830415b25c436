using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// HF ByteLevel pre-tokenizer: optionally a leading space on every piece, optionally the GPT-2 split, then each piece's
/// UTF-8 bytes as <see cref="ByteLevelAlphabet"/> characters.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    static readonly Lazy<SplitPreTokenizer> s_gpt2Split = new(() => new SplitPreTokenizer(new OnigRegex(Gpt2Pattern, "ByteLevel"),
        SplitBehavior.Isolated, false));

    public static ByteLevelPreTokenizer Parse(JsonElement j, string where) =>
        new(j.OptionalBool("add_prefix_space", true, where), j.OptionalBool("use_regex", true, where));

    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        if (piece.Text.Length == 0) return;
        if (addPrefixSpace && !piece.Text.StartsWith(' ')) piece = piece with { Text = " " + piece.Text };
        if (!useRegex)
        {
            output.Add(piece with { Text = ByteLevelAlphabet.Encode(piece.Text) });
            return;
        }
        var split = new List<PreToken>();
        s_gpt2Split.Value.PreTokenize(piece, split);
        foreach (var p in split) output.Add(p with { Text = ByteLevelAlphabet.Encode(p.Text) });
    }
}
