using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Qzo.IO;

namespace Qzo.Text;

/// <summary>
/// A CLIPTokenizer folder as Stable Diffusion 3.5 ships tokenizer/ and tokenizer_2/ (vocab.json, merges.txt,
/// tokenizer_config.json, special_tokens_map.json), with merges learned from a corpus. The vocabulary is laid out as
/// openai/clip-vit-large-patch14's: the 256 byte characters of GPT-2's bytes_to_unicode (printable bytes first, in
/// byte order, then the others), the same 256 with "&lt;/w&gt;", one new token per merge in merge order, and
/// &lt;|startoftext|&gt;, &lt;|endoftext|&gt; last (tests/oracle/sd3_text.py trains the same layout in Python).
/// Training words are what CLIPTokenizer feeds its BPE (<see cref="ClipTokenizerClass"/>): the text NFC-normalized,
/// white space collapsed and lowercased, cut by CLIP's pattern, each piece as byte characters with "&lt;/w&gt;" on the last.
/// </summary>
public static class ClipTokenizerSynthesizer
{
    public const string StartOfText = "<|startoftext|>", EndOfText = "<|endoftext|>";
    /// <summary>tokenizer_2's pad token (SDXL's and SD3's OpenCLIP bigG tokenizer); id 0, the first byte character.</summary>
    public const string BigGPadToken = "!";
    const string EndOfWord = ClipTokenizerClass.EndOfWord;

    /// <summary>The built-in training text: <see cref="EnglishCorpus"/> and image descriptions.</summary>
    public static IReadOnlyList<string> BuiltInCorpus { get; } = [.. EnglishCorpus.Lines, .. CaptionCorpus.Lines];

    /// <summary>A learned vocabulary in CLIP's layout; &lt;|startoftext|&gt; and &lt;|endoftext|&gt; are its last two ids.</summary>
    public sealed record Vocabulary(IReadOnlyList<string> Tokens, IReadOnlyList<(string Left, string Right)> Merges)
    {
        public int Count => Tokens.Count;
        public int StartOfTextId => Tokens.Count - 2;
        public int EndOfTextId => Tokens.Count - 1;
        public int IdOf(string token) => Tokens.ToList().IndexOf(token);
    }

    /// <summary>The byte characters in vocab.json's order: printable Latin-1 bytes first, then the rest, each in byte order.</summary>
    public static IReadOnlyList<string> ByteAlphabet { get; } = Enumerable.Range(0, 256)
        .OrderBy(b => Printable(b) ? 0 : 1).ThenBy(b => b).Select(b => ByteLevelAlphabet.CharOf((byte)b).ToString()).ToList();

    static bool Printable(int b) => b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;

    /// <summary>Learns up to <paramref name="maxMerges"/> merges (fewer when no pair occurs twice any more).</summary>
    public static Vocabulary Train(IEnumerable<string> corpus, int maxMerges)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentOutOfRangeException.ThrowIfNegative(maxMerges);
        var pattern = new Regex(ClipTokenizerClass.Pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var words = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in corpus)
        {
            string text = Regex.Replace(line.Normalize(NormalizationForm.FormC), @"\s+", " ").ToLowerInvariant();
            foreach (Match m in pattern.Matches(text)) words[m.Value] = words.GetValueOrDefault(m.Value) + 1;
        }
        var alphabet = ByteAlphabet.Concat(ByteAlphabet.Select(c => c + EndOfWord)).ToList();
        var trainer = BpeTrainer.FromSymbols(alphabet, words.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols(kv.Key), kv.Value)), maxMerges);
        return new Vocabulary([.. alphabet, .. trainer.NewTokens, StartOfText, EndOfText], trainer.Merges);
    }

    /// <summary>A word as BPE starts it: one byte character per UTF-8 byte, "&lt;/w&gt;" glued to the last.</summary>
    static string[] Symbols(string word)
    {
        var symbols = ByteLevelAlphabet.Encode(word).Select(c => c.ToString()).ToArray();
        symbols[^1] += EndOfWord;
        return symbols;
    }

    /// <summary>
    /// Writes the four files into <paramref name="folder"/> (created if missing). <paramref name="padToken"/> is
    /// &lt;|endoftext|&gt; for tokenizer/ and "!" (<see cref="BigGPadToken"/>) for tokenizer_2/, as SD3.5 ships them.
    /// </summary>
    public static void Write(string folder, Vocabulary vocabulary, string padToken)
    {
        int padId = vocabulary.IdOf(padToken);
        if (padId < 0) throw new ArgumentException($"the pad token \"{padToken}\" is not in the vocabulary", nameof(padToken));
        Directory.CreateDirectory(folder);
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, TokenizerFiles.CompactWriter))
        {
            w.WriteStartObject();
            for (int id = 0; id < vocabulary.Count; id++) w.WriteNumber(vocabulary.Tokens[id], id);
            w.WriteEndObject();
        }
        AtomicFile.WriteAllBytes(Path.Combine(folder, "vocab.json"), buffer.ToArray());
        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in vocabulary.Merges) merges.Append(left).Append(' ').Append(right).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(folder, "merges.txt"), merges.ToString());

        var decoder = new JsonObject();
        if (padToken != EndOfText) decoder[Id(padId)] = TokenizerFiles.Token(padToken, normalized: false);
        decoder[Id(vocabulary.StartOfTextId)] = TokenizerFiles.Token(StartOfText, normalized: true);
        decoder[Id(vocabulary.EndOfTextId)] = TokenizerFiles.Token(EndOfText, normalized: false);
        TokenizerFiles.Write(Path.Combine(folder, "tokenizer_config.json"), new JsonObject
        {
            ["add_prefix_space"] = false,
            ["added_tokens_decoder"] = decoder,
            ["bos_token"] = StartOfText,
            ["clean_up_tokenization_spaces"] = true,
            ["do_lower_case"] = true,
            ["eos_token"] = EndOfText,
            ["errors"] = "replace",
            ["model_max_length"] = 77,
            ["pad_token"] = padToken,
            ["tokenizer_class"] = "CLIPTokenizer",
            ["unk_token"] = EndOfText,
        });
        TokenizerFiles.Write(Path.Combine(folder, "special_tokens_map.json"), new JsonObject
        {
            ["bos_token"] = TokenizerFiles.Token(StartOfText, normalized: true, special: null),
            ["eos_token"] = TokenizerFiles.Token(EndOfText, normalized: false, special: null),
            ["pad_token"] = padToken == EndOfText ? padToken : TokenizerFiles.Token(padToken, normalized: false, special: null),
            ["unk_token"] = TokenizerFiles.Token(EndOfText, normalized: false, special: null),
        });
    }

    static string Id(int id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
