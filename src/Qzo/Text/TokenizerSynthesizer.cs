using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// Writes a Llama-2-style tokenizer (tokenizer.json + tokenizer_config.json) for synthetic checkpoints: the Llama-2
/// pipeline and special/byte ids, with a vocabulary learned from a corpus by <see cref="BpeTrainer"/>.
/// </summary>
public static class TokenizerSynthesizer
{
    const string Space = "▁";
    const int ReservedCount = 3 + 256;

    /// <summary>3 special tokens, 256 byte tokens and "▁".</summary>
    public const int MinimumVocabSize = ReservedCount + 1;

    public static IReadOnlyList<string> BuiltInCorpus => EnglishCorpus.Lines;

    /// <summary>
    /// Ids: &lt;unk&gt;=0 &lt;s&gt;=1 &lt;/s&gt;=2, &lt;0x00&gt;..&lt;0xFF&gt; = 3..258, then learned merged tokens in merge order, then
    /// the
    /// corpus characters (most frequent first). If the corpus runs out of pairs, the rest is filled with single
    /// characters of common scripts (Latin, Greek, Cyrillic, kana, CJK, Hangul), then &lt;extra_N&gt; placeholders.
    /// </summary>
    public static string BuildTokenizerJson(int vocabSize, IEnumerable<string> corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (vocabSize < MinimumVocabSize)
            throw new ArgumentException(
                $"vocabSize must be at least {MinimumVocabSize} (3 special tokens, 256 byte tokens and \"{Space}\"); got {vocabSize}",
                nameof(vocabSize));

        var reserved = new List<string> { "<unk>", "<s>", "</s>" };
        for (int b = 0; b < 256; b++) reserved.Add($"<0x{b:X2}>");
        var normalized = corpus.Where(l => l.Length > 0).Select(l => Space + l.Replace(" ", Space, StringComparison.Ordinal));
        var trainer = new BpeTrainer(normalized, vocabSize - ReservedCount, reserved, Space);

        var vocab = new List<string>(vocabSize);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in reserved.Concat(trainer.NewTokens).Concat(trainer.Alphabet).Concat(FillerCharacters()))
        {
            if (vocab.Count == vocabSize) break;
            if (seen.Add(t)) vocab.Add(t);
        }
        for (int n = 0; vocab.Count < vocabSize; n++)
            if (seen.Add($"<extra_{n}>")) vocab.Add($"<extra_{n}>");

        return WriteJson(vocab, trainer.Merges);
    }

    static IEnumerable<string> FillerCharacters()
    {
        (int From, int To)[] ranges =
        [
            (0x00C0, 0x00D6), (0x00D8, 0x00F6), (0x00F8, 0x017F),   // Latin-1 letters, Latin Extended-A
            (0x0391, 0x03A1), (0x03A3, 0x03A9), (0x03B1, 0x03C9),   // Greek
            (0x0400, 0x045F),                                       // Cyrillic
            (0x3041, 0x3096), (0x30A1, 0x30FA),                     // Hiragana, Katakana
            (0x4E00, 0x9FFF),                                       // CJK Unified Ideographs
            (0xAC00, 0xD7A3),                                       // Hangul syllables
        ];
        foreach (var (from, to) in ranges)
            for (int c = from; c <= to; c++) yield return char.ConvertFromUtf32(c);
    }

    static string WriteJson(List<string> vocab, List<(string Left, string Right)> merges)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (int id = 0; id < 3; id++)
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", vocab[id]);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartObject("normalizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("normalizers");
            w.WriteStartObject(); w.WriteString("type", "Prepend"); w.WriteString("prepend", Space); w.WriteEndObject();
            WriteReplace(w, " ", Space);
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteNull("pre_tokenizer");

            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            w.WriteStartArray("single");
            w.WriteStartObject(); w.WriteStartObject("SpecialToken"); w.WriteString("id", "<s>"); w.WriteNumber("type_id", 0);
            w.WriteEndObject(); w.WriteEndObject();
            w.WriteStartObject(); w.WriteStartObject("Sequence"); w.WriteString("id", "A"); w.WriteNumber("type_id", 0); w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartArray("pair");
            foreach (var (piece, id, typeId) in new[] { ("SpecialToken", "<s>", 0), ("Sequence", "A", 0), ("SpecialToken", "<s>", 1),
                ("Sequence", "B", 1) })
            {
                w.WriteStartObject(); w.WriteStartObject(piece); w.WriteString("id", id); w.WriteNumber("type_id", typeId);
                w.WriteEndObject(); w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            w.WriteStartObject("<s>");
            w.WriteString("id", "<s>");
            w.WriteStartArray("ids"); w.WriteNumberValue(1); w.WriteEndArray();
            w.WriteStartArray("tokens"); w.WriteStringValue("<s>"); w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartObject("decoder");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("decoders");
            WriteReplace(w, Space, " ");
            w.WriteStartObject(); w.WriteString("type", "ByteFallback"); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "Fuse"); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "Strip"); w.WriteString("content", " "); w.WriteNumber("start", 1);
            w.WriteNumber("stop", 0); w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteString("unk_token", "<unk>");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", true);
            w.WriteBoolean("byte_fallback", true);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (int id = 0; id < vocab.Count; id++) w.WriteNumber(vocab[id], id);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (left, right) in merges)
            {
                w.WriteStartArray();
                w.WriteStringValue(left);
                w.WriteStringValue(right);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    static void WriteReplace(Utf8JsonWriter w, string pattern, string content)
    {
        w.WriteStartObject();
        w.WriteString("type", "Replace");
        w.WriteStartObject("pattern"); w.WriteString("String", pattern); w.WriteEndObject();
        w.WriteString("content", content);
        w.WriteEndObject();
    }

    /// <summary>
    /// transformers' tokenizer_config.json for <see cref="BuildTokenizerJson"/>'s output (LlamaTokenizerFast, BOS added, no EOS, no pad
    /// token).
    /// </summary>
    public static string BuildTokenizerConfigJson()
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", true);
            w.WriteBoolean("add_eos_token", false);
            w.WriteStartObject("added_tokens_decoder");
            foreach (var (id, content) in new[] { (0, "<unk>"), (1, "<s>"), (2, "</s>") })
            {
                w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("content", content);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteString("bos_token", "<s>");
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteString("eos_token", "</s>");
            w.WriteBoolean("legacy", true);
            w.WriteNumber("model_max_length", 4096);
            w.WriteNull("pad_token");
            w.WriteString("padding_side", "right");
            w.WriteStartObject("sp_model_kwargs");
            w.WriteEndObject();
            w.WriteString("tokenizer_class", "LlamaTokenizerFast");
            w.WriteString("unk_token", "<unk>");
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
