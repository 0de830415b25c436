using System.Text.Json;
using Qzo.Text;

namespace Qzo.Tests.Text;

/// <summary>
/// transformers 5's CLIPTokenizer (Stable Diffusion's tokenizer/ and tokenizer_2/) on a tiny vocabulary in CLIP's
/// format, built here: the 256 byte-level characters, the same with "&lt;/w&gt;", one token per merge, then
/// &lt;|startoftext|&gt; and &lt;|endoftext|&gt; last, as openai/clip-vit-large-patch14's vocab.json is laid out.
/// Every expectation is derived by hand from the class's pipeline (tests/Qzo.Tests/Text/HfSd3TokenizerOracleTests.cs
/// checks transformers' own ids on the oracle's vocabulary).
/// </summary>
public sealed class ClipTokenizerTests : IDisposable
{
    static readonly string[] Merges =
        ["h e", "l l", "he ll", "hell o</w>", "c a", "ca t</w>", "p h", "o t", "ph ot", "phot o</w>", "o f</w>", "' s</w>"];

    readonly TempFolder _clipL = new(), _clipG = new();
    readonly Dictionary<string, int> _vocab;

    public ClipTokenizerTests()
    {
        // Byte-level characters in bytes_to_unicode's order (printable bytes first), then each with "</w>".
        var alphabet = Enumerable.Range(33, 94).Concat(Enumerable.Range(161, 12)).Concat(Enumerable.Range(174, 82))
            .Concat(Enumerable.Range(0, 256).Where(b => b is < 33 or (> 126 and < 161) or 173))
            .Select(b => ByteLevelAlphabet.CharOf((byte)b).ToString()).ToList();
        var tokens = alphabet.Concat(alphabet.Select(c => c + "</w>")).Concat(Merges.Select(m => m.Replace(" ", "")))
            .Append("<|startoftext|>").Append("<|endoftext|>").ToList();
        _vocab = tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);
        Write(_clipL, """
            {"tokenizer_class": "CLIPTokenizer", "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
             "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "model_max_length": 77, "do_lower_case": true}
            """);
        // tokenizer_2 of SDXL / SD3: pad "!"; <|startoftext|> is normalized (matched after lowercasing), as the Hub's config says.
        Write(_clipG, """
            {"tokenizer_class": "CLIPTokenizer", "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
             "unk_token": "<|endoftext|>", "pad_token": "!", "model_max_length": 77,
             "added_tokens_decoder": {
               "524": {"content": "<|startoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false,
                       "special": true},
               "525": {"content": "<|endoftext|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false,
                       "special": true}}}
            """);
    }

    void Write(TempFolder folder, string config)
    {
        File.WriteAllText(folder["vocab.json"], JsonSerializer.Serialize(_vocab));
        File.WriteAllLines(folder["merges.txt"], ["#version: 0.2", .. Merges]);
        File.WriteAllText(folder["tokenizer_config.json"], config);
    }

    public void Dispose()
    {
        _clipL.Dispose();
        _clipG.Dispose();
    }

    int Id(string token) => _vocab[token];
    int Bos => Id("<|startoftext|>");
    int Eos => Id("<|endoftext|>");

    [Fact]
    public void TheVocabularyHasClipsLayout()
    {
        Assert.Equal(524, Bos);
        Assert.Equal(525, Eos);
        Assert.Equal(0, Id("!"));
        Assert.Equal(256, Id("!</w>"));
    }

    [Fact]
    public void WordsGetEndOfWordPiecesBetweenStartAndEnd()
    {
        var t = Tokenizer.Load(_clipL.Path);
        Assert.Equal([Bos, Id("hello</w>"), Eos], t.Encode("hello"));
        Assert.Equal([Id("hello</w>")], t.Encode("hello", addSpecialTokens: false));
        // Lowercased; the last symbol of a word carries "</w>", so "hellox" keeps "hell" and ends in "x</w>".
        Assert.Equal([Bos, Id("hello</w>"), Id("cat</w>"), Eos], t.Encode("HeLLo CAT"));
        Assert.Equal([Bos, Id("hell"), Id("o"), Id("x</w>"), Eos], t.Encode("hellox"));
        Assert.Equal([Bos, Id("ca"), Id("t"), Id("s</w>"), Eos], t.Encode("cats"));
        Assert.Equal((int?)Bos, t.BosId);
        Assert.Equal((int?)Eos, t.EosId);
        Assert.Equal((int?)Eos, t.PadId);
        Assert.Equal(526, t.VocabSize);
    }

    [Fact]
    public void WhiteSpaceIsDroppedAndPiecesFollowClipsRegex()
    {
        var t = Tokenizer.Load(_clipL.Path);
        // White space of any kind only separates; contractions, letter runs, single digits and punctuation runs are pieces.
        Assert.Equal([Bos, Id("a</w>"), Id("photo</w>"), Id("of</w>"), Id("cat</w>"), Id("'s</w>"), Eos],
            t.Encode("  A \t photo\nOF\u00a0\u3000cat's  "));
        Assert.Equal([Bos, Id("4</w>"), Id("2</w>"), Eos], t.Encode("42"));
        Assert.Equal([Bos, Id("!"), Id("!"), Id("?</w>"), Id("cat</w>"), Eos], t.Encode("!!?cat"));
        // Non-ASCII letters: NFC first, then their UTF-8 bytes as byte-level characters.
        string e = ByteLevelAlphabet.Encode("\u00e9");
        Assert.Equal([Bos, Id("ca"), Id("f"), Id(e[0].ToString()), Id(e[1] + "</w>"), Eos], t.Encode("cafe\u0301"));
        Assert.Equal([Bos, Eos], t.Encode(" \t\n "));
    }

    [Fact]
    public void SpecialTokensAreMatchedOnlyAsWritten()
    {
        var t = Tokenizer.Load(_clipL.Path);
        Assert.Equal([Bos, Eos, Id("cat</w>"), Bos, Eos], t.Encode("<|endoftext|>cat<|startoftext|>"));
        // Upper case is not the special token (it is matched before lowercasing). The lowercased text is one piece of
        // CLIP's regex, which ByteLevel's own GPT-2 regex splits again into "<|", "endoftext", "|>", each a word.
        int[] spelled = [Id("<"), Id("|</w>"), .. "endofte".Select(c => Id(c.ToString())), Id("x"), Id("t</w>"), Id("|"), Id("></w>")];
        Assert.Equal([Bos, .. spelled, Eos], t.Encode("<|ENDOFTEXT|>"));
        // tokenizer_2's config marks <|startoftext|> normalized: it is matched after lowercasing.
        var g = Tokenizer.Load(_clipG.Path);
        Assert.Equal([Bos, Bos, Id("cat</w>"), Eos], g.Encode("<|STARTOFTEXT|>cat"));
    }

    [Fact]
    public void Tokenizer2sPadTokenIsASpecialToken()
    {
        // pad "!" is a special added token (transformers adds every named special token): each "!" in the text is id 0
        // on its own, never "!</w>" or part of a punctuation run.
        var g = Tokenizer.Load(_clipG.Path);
        Assert.Equal((int?)0, g.PadId);
        Assert.Equal([Bos, Id("hello</w>"), 0, 0, Id("?</w>"), Eos], g.Encode("hello!!?"));
        Assert.Equal([Bos, Id("hello</w>"), Id("!"), Id("!"), Id("?</w>"), Eos], Tokenizer.Load(_clipL.Path).Encode("hello!!?"));
    }

    [Fact]
    public void EncodePaddedPadsWithTheFoldersPadTokenAndKeepsEndOfText()
    {
        var l = Tokenizer.Load(_clipL.Path);
        var g = Tokenizer.Load(_clipG.Path);
        Assert.Equal([Bos, Id("cat</w>"), Eos, .. Enumerable.Repeat(Eos, 74)], l.EncodePadded("cat", 77));
        Assert.Equal([Bos, Id("cat</w>"), Eos, .. Enumerable.Repeat(0, 74)], g.EncodePadded("cat", 77));
        Assert.Equal([Bos, Eos, .. Enumerable.Repeat(0, 75)], g.EncodePadded("", 77));
        // 100 words: the first 75 kept, then <|endoftext|> (truncation leaves room for the two special tokens).
        string longText = string.Join(" ", Enumerable.Repeat("cat", 100));
        Assert.Equal([Bos, .. Enumerable.Repeat(Id("cat</w>"), 75), Eos], l.EncodePadded(longText, 77));
        Assert.Equal([Bos, .. Enumerable.Repeat(Id("cat</w>"), 75), Eos], g.EncodePadded(longText, 77));
        Assert.Equal([Bos, Eos], l.EncodePadded(longText, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => l.EncodePadded("cat", 1));
    }

    [Fact]
    public void DecodeTurnsEndOfWordIntoSpaces()
    {
        var t = Tokenizer.Load(_clipL.Path);
        Assert.Equal("hello , cat 's", t.Decode(t.Encode("Hello, cat's")));
        Assert.Equal("<|startoftext|>hello <|endoftext|>", t.Decode(t.Encode("hello"), skipSpecialTokens: false));
        Assert.Equal("caf\u00e9", t.Decode(t.Encode("Caf\u00e9")));
    }

    [Fact]
    public void ATokenizerJsonUnderClipsNameGetsClipsPipeline()
    {
        // transformers' CLIPTokenizer takes only the vocabulary, merges and added tokens of a tokenizer.json: a file
        // with no normalizer or pre-tokenizer of its own still lowercases and splits as CLIP does.
        string json = JsonSerializer.Serialize(new
        {
            model = new { type = "BPE", vocab = _vocab, merges = Merges, end_of_word_suffix = "</w>" },
            added_tokens = Array.Empty<object>(),
        });
        string config = File.ReadAllText(_clipL["tokenizer_config.json"]);
        var t = Tokenizer.FromJson(json, config);
        Assert.Equal(Tokenizer.Load(_clipL.Path).Encode("  A photo OF cat's!"), t.Encode("  A photo OF cat's!"));
        Assert.Equal([Bos, Id("hello</w>"), Eos], t.Encode("HELLO"));
    }
}
