using System.Text.Json.Nodes;

namespace Qzo.Text;

/// <summary>
/// A T5TokenizerFast folder as Stable Diffusion 3.5 ships tokenizer_3/ (tokenizer.json, tokenizer_config.json,
/// special_tokens_map.json; no spiece.model), with a Unigram vocabulary learned from a corpus: &lt;pad&gt; = 0,
/// &lt;/s&gt; = 1, &lt;unk&gt; = 2, then the pieces by descending score. The pieces are the corpus characters and the
/// tokens <see cref="BpeTrainer"/> merges from "▁"-joined words (whole words "▁the" and word parts); a piece's score is
/// the log-probability of its count in the corpus as those merges segment it (plus one, so every piece has a count),
/// so Viterbi prefers the pieces the corpus uses. The tokenizer.json pipeline is the one T5TokenizerFast writes for a
/// SentencePiece model without a precompiled character map: normalizer Replace(" {2,}" → " "), pre-tokenizer
/// WhitespaceSplit + Metaspace("▁", prepend always), post-processor X &lt;/s&gt;, decoder Metaspace. No sentinels
/// (extra_ids 0).
/// </summary>
public static class T5TokenizerSynthesizer
{
    const string Space = TokenizerClasses.Space;
    public const string Pad = "<pad>", Eos = "</s>", Unk = "<unk>";
    /// <summary>The three special tokens and "▁".</summary>
    public const int MinimumVocabSize = 4;

    /// <summary>
    /// The Unigram vocabulary: specials with score 0, then at most <paramref name="vocabSize"/> − 3 pieces (fewer when
    /// the corpus offers no more), highest score first.
    /// </summary>
    public static IReadOnlyList<(string Piece, double Score)> Train(IEnumerable<string> corpus, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, MinimumVocabSize);
        var lines = corpus.Select(l => string.Join(Space, l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))
            .Where(l => l.Length > 0).Select(l => Space + l);
        string[] specials = [Pad, Eos, Unk];
        var trainer = new BpeTrainer(lines, vocabSize - specials.Length, specials, Space);
        var counts = trainer.SegmentCounts();
        var pieces = trainer.Alphabet.Concat(trainer.NewTokens).Distinct(StringComparer.Ordinal).ToList();
        double total = pieces.Sum(p => counts.GetValueOrDefault(p) + 1.0);
        var scored = pieces.Select(p => (Piece: p, Score: Math.Log((counts.GetValueOrDefault(p) + 1.0) / total)))
            .OrderByDescending(p => p.Score).ThenBy(p => p.Piece, StringComparer.Ordinal);
        return [.. specials.Select(s => (s, 0.0)), .. scored];
    }

    /// <summary>Writes the three files into <paramref name="folder"/> (created if missing).</summary>
    public static void Write(string folder, IReadOnlyList<(string Piece, double Score)> vocab)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocab.Count, MinimumVocabSize);
        if (vocab[0].Piece != Pad || vocab[1].Piece != Eos || vocab[2].Piece != Unk)
            throw new ArgumentException($"ids 0, 1, 2 must be {Pad}, {Eos}, {Unk}", nameof(vocab));
        Directory.CreateDirectory(folder);
        var added = new JsonArray();
        var decoder = new JsonObject();
        for (int id = 0; id < 3; id++)
        {
            var token = TokenizerFiles.Token(vocab[id].Piece, normalized: false);
            decoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = token;
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = vocab[id].Piece, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        }
        TokenizerFiles.Write(Path.Combine(folder, "tokenizer.json"), new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(new JsonObject
                {
                    ["type"] = "Replace", ["pattern"] = new JsonObject { ["Regex"] = " {2,}" }, ["content"] = " ",
                }),
            },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(new JsonObject { ["type"] = "WhitespaceSplit" }, Metaspace()),
            },
            ["post_processor"] = PostProcessor(),
            ["decoder"] = Metaspace(),
            ["model"] = new JsonObject
            {
                ["type"] = "Unigram",
                ["unk_id"] = 2,
                ["vocab"] = new JsonArray(vocab.Select(p => (JsonNode)new JsonArray(p.Piece, p.Score)).ToArray()),
                ["byte_fallback"] = false,
            },
        }, sortKeys: false);
        TokenizerFiles.Write(Path.Combine(folder, "tokenizer_config.json"), new JsonObject
        {
            ["add_prefix_space"] = true,
            ["added_tokens_decoder"] = decoder,
            ["clean_up_tokenization_spaces"] = true,
            ["eos_token"] = Eos,
            ["extra_ids"] = 0,
            ["legacy"] = true,
            ["model_max_length"] = 512,
            ["pad_token"] = Pad,
            ["sp_model_kwargs"] = new JsonObject(),
            ["tokenizer_class"] = "T5TokenizerFast",
            ["unk_token"] = Unk,
        });
        TokenizerFiles.Write(Path.Combine(folder, "special_tokens_map.json"), new JsonObject
        {
            ["eos_token"] = TokenizerFiles.Token(Eos, normalized: false, special: null),
            ["pad_token"] = TokenizerFiles.Token(Pad, normalized: false, special: null),
            ["unk_token"] = TokenizerFiles.Token(Unk, normalized: false, special: null),
        });
    }

    static JsonObject Metaspace() =>
        new() { ["type"] = "Metaspace", ["replacement"] = Space, ["prepend_scheme"] = "always", ["split"] = true };

    /// <summary>TemplateProcessing: "$A &lt;/s&gt;" and "$A &lt;/s&gt; $B &lt;/s&gt;".</summary>
    static JsonObject PostProcessor()
    {
        JsonObject Sequence(string id) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = 0 } };
        JsonObject End() => new() { ["SpecialToken"] = new JsonObject { ["id"] = Eos, ["type_id"] = 0 } };
        return new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(Sequence("A"), End()),
            ["pair"] = new JsonArray(Sequence("A"), End(), Sequence("B"), End()),
            ["special_tokens"] = new JsonObject
            {
                [Eos] = new JsonObject { ["id"] = Eos, ["ids"] = new JsonArray(1), ["tokens"] = new JsonArray(Eos) },
            },
        };
    }
}
