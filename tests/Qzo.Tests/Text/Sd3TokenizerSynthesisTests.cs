using System.Text.Json;
using Qzo.Text;

namespace Qzo.Tests.Text;

/// <summary>
/// The CLIP and T5 tokenizer folders `qzo synth --architecture sd3` writes: their layout as SD3.5 ships them, and that
/// Qzo's loader reads them back into tokenizers that give sensible ids.
/// </summary>
public sealed class Sd3TokenizerSynthesisTests : IDisposable
{
    static readonly ClipTokenizerSynthesizer.Vocabulary Clip = ClipTokenizerSynthesizer.Train(ClipTokenizerSynthesizer.BuiltInCorpus, 2000);
    static readonly IReadOnlyList<(string Piece, double Score)> T5Vocab =
        T5TokenizerSynthesizer.Train(ClipTokenizerSynthesizer.BuiltInCorpus, 1000);

    readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    Tokenizer ClipTokenizer(string pad)
    {
        string path = _folder[pad == "!" ? "tokenizer_2" : "tokenizer"];
        ClipTokenizerSynthesizer.Write(path, Clip, pad);
        return Tokenizer.Load(path);
    }

    Tokenizer T5Tokenizer()
    {
        T5TokenizerSynthesizer.Write(_folder["tokenizer_3"], T5Vocab);
        return Tokenizer.Load(_folder["tokenizer_3"]);
    }

    [Fact]
    public void ClipVocabularyHasTheHubLayout()
    {
        ClipTokenizerSynthesizer.Write(_folder["tokenizer"], Clip, ClipTokenizerSynthesizer.EndOfText);
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(_folder["tokenizer/vocab.json"]))!;
        var byId = vocab.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToList();
        Assert.Equal(Enumerable.Range(0, vocab.Count), vocab.Values.Order());
        Assert.True(Clip.Merges.Count > 300, $"only {Clip.Merges.Count} merges learned");
        Assert.Equal(512 + Clip.Merges.Count + 2, vocab.Count);
        Assert.Equal("!", byId[0]);
        Assert.Equal("~", byId[93]);
        Assert.Equal("Ā", byId[188]);      // byte 0, the first non-printable byte
        Assert.Equal("Ġ", byId[188 + 32]); // the space
        Assert.Equal("!</w>", byId[256]);
        for (int r = 0; r < Clip.Merges.Count; r++) Assert.Equal(Clip.Merges[r].Left + Clip.Merges[r].Right, byId[512 + r]);
        Assert.Equal(["<|startoftext|>", "<|endoftext|>"], byId[^2..]);

        var merges = File.ReadAllLines(_folder["tokenizer/merges.txt"]);
        Assert.Equal("#version: 0.2", merges[0]);
        Assert.Equal(Clip.Merges.Select(m => $"{m.Left} {m.Right}"), merges[1..]);
        Assert.Contains(Clip.Merges, m => m.Right.EndsWith("</w>", StringComparison.Ordinal));
        Assert.DoesNotContain(Clip.Merges, m => m.Left.EndsWith("</w>", StringComparison.Ordinal));

        using var config = JsonDocument.Parse(File.ReadAllText(_folder["tokenizer/tokenizer_config.json"]));
        Assert.Equal("CLIPTokenizer", config.RootElement.GetProperty("tokenizer_class").GetString());
        Assert.Equal(77, config.RootElement.GetProperty("model_max_length").GetInt32());
        Assert.True(File.Exists(_folder["tokenizer/special_tokens_map.json"]));
    }

    [Fact]
    public void ClipTokenizersLoadWithTheirSpecialTokens()
    {
        var l = ClipTokenizer(ClipTokenizerSynthesizer.EndOfText);
        var g = ClipTokenizer(ClipTokenizerSynthesizer.BigGPadToken);
        foreach (var t in new[] { l, g })
        {
            Assert.Equal(Clip.Count, t.VocabSize);
            Assert.Equal(Clip.StartOfTextId, t.BosId);
            Assert.Equal(Clip.EndOfTextId, t.EosId);
            Assert.Equal(Clip.EndOfTextId, t.UnkId);
        }
        Assert.Equal(Clip.EndOfTextId, l.PadId);
        Assert.Equal(0, g.PadId);
    }

    [Fact]
    public void ClipEncodesLowercasedWordsAndDecodesThem()
    {
        var t = ClipTokenizer(ClipTokenizerSynthesizer.EndOfText);
        int the = t.TokenToId("the</w>") ?? throw new Xunit.Sdk.XunitException("\"the</w>\" was not learned");
        Assert.Equal([Clip.StartOfTextId, the, Clip.EndOfTextId], t.Encode("the"));
        Assert.Equal(t.Encode("a red fox in the snow"), t.Encode("A Red FOX  in the\tSnow"));
        int[] ids = t.Encode("a red fox in the snow");
        Assert.True(ids.Length <= 2 + 8, $"{ids.Length} ids: the corpus words should be whole tokens");
        Assert.Equal("a red fox in the snow", t.Decode(ids));
        // Byte-level BPE covers any text: nothing is unknown, and it decodes back (lowercased, "!" split off as a word).
        foreach (var text in new[] { "café naïve 猫 😀", "x 1 2 3 y", "zzzqqq" })
            Assert.Equal(text, t.Decode(t.Encode(text)));
        Assert.Equal("wow !", t.Decode(t.Encode("WOW!")));
    }

    [Fact]
    public void ClipPadsWithItsOwnPadToken()
    {
        var l = ClipTokenizer(ClipTokenizerSynthesizer.EndOfText);
        var g = ClipTokenizer(ClipTokenizerSynthesizer.BigGPadToken);
        int[] short1 = l.EncodePadded("a red fox", 77), short2 = g.EncodePadded("a red fox", 77);
        int n = l.Encode("a red fox").Length;
        Assert.Equal(77, short1.Length);
        Assert.Equal(l.Encode("a red fox"), short1[..n]);
        Assert.All(short1[n..], id => Assert.Equal(Clip.EndOfTextId, id));
        Assert.Equal(short1[..n], short2[..n]);
        Assert.All(short2[n..], id => Assert.Equal(0, id));
        // A long prompt is cut to 77 and still ends in <|endoftext|>.
        int[] longIds = l.EncodePadded(string.Join(' ', ClipTokenizerSynthesizer.BuiltInCorpus.Take(5)), 77);
        Assert.Equal(77, longIds.Length);
        Assert.Equal(Clip.StartOfTextId, longIds[0]);
        Assert.Equal(Clip.EndOfTextId, longIds[^1]);
        Assert.DoesNotContain(Clip.EndOfTextId, longIds[..^1]);
    }

    [Fact]
    public void T5VocabularyIsUnigramWithT5sSpecialIds()
    {
        Assert.Equal([("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)], T5Vocab.Take(3));
        Assert.True(T5Vocab.Count is > 300 and <= 1000, $"{T5Vocab.Count} pieces");
        var scores = T5Vocab.Skip(3).Select(p => p.Score).ToList();
        Assert.All(scores, s => Assert.True(s < 0));
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.Contains(T5Vocab, p => p.Piece == "▁the");
        Assert.Contains(T5Vocab, p => p.Piece == "e");
        Assert.Equal(T5Vocab.Count, T5Vocab.Select(p => p.Piece).Distinct().Count());
        Assert.Equal(T5Vocab, T5TokenizerSynthesizer.Train(ClipTokenizerSynthesizer.BuiltInCorpus, 1000));

        T5TokenizerSynthesizer.Write(_folder["tokenizer_3"], T5Vocab);
        using var json = JsonDocument.Parse(File.ReadAllText(_folder["tokenizer_3/tokenizer.json"]));
        var model = json.RootElement.GetProperty("model");
        Assert.Equal("Unigram", model.GetProperty("type").GetString());
        Assert.Equal(2, model.GetProperty("unk_id").GetInt32());
        Assert.Equal("Metaspace", json.RootElement.GetProperty("decoder").GetProperty("type").GetString());
        using var config = JsonDocument.Parse(File.ReadAllText(_folder["tokenizer_3/tokenizer_config.json"]));
        Assert.Equal("T5TokenizerFast", config.RootElement.GetProperty("tokenizer_class").GetString());
        Assert.Equal(512, config.RootElement.GetProperty("model_max_length").GetInt32());
        Assert.Equal(0, config.RootElement.GetProperty("extra_ids").GetInt32());
    }

    [Fact]
    public void T5EncodesWordPiecesEndsInEosAndPads()
    {
        var t = T5Tokenizer();
        Assert.Equal(T5Vocab.Count, t.VocabSize);
        Assert.Equal((0, 1, 2), (t.PadId, t.EosId, t.UnkId));
        int the = t.TokenToId("▁the")!.Value;
        Assert.Equal([the, 1], t.Encode("the"));
        foreach (var text in new[] { "a red fox in the snow", "The museum is open from Monday to Saturday.", "zebra quokka" })
        {
            int[] ids = t.Encode(text);
            Assert.Equal(1, ids[^1]);
            Assert.DoesNotContain(2, ids);
            Assert.Equal(text, t.Decode(ids));
        }
        // A character no piece covers is <unk>, after the "▁" of its word (as T5's own vocabulary does it).
        Assert.Equal([the, t.TokenToId("▁")!.Value, 2, 1], t.Encode("the 猫"));

        int[] padded = t.EncodePadded("a red fox", 256);
        int n = t.Encode("a red fox").Length;
        Assert.Equal(256, padded.Length);
        Assert.Equal(t.Encode("a red fox"), padded[..n]);
        Assert.All(padded[n..], id => Assert.Equal(0, id));
        int[] cut = t.EncodePadded(string.Join(' ', ClipTokenizerSynthesizer.BuiltInCorpus), 16);
        Assert.Equal(16, cut.Length);
        Assert.Equal(1, cut[^1]);
    }
}
