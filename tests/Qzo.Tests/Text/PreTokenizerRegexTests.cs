using System.Text.Json;
using System.Text.RegularExpressions;
using Qzo.Text;

namespace Qzo.Tests.Text;

/// <summary>Split / ByteLevel pre-tokenizers and the Oniguruma-compatible regex wrapper they use.</summary>
public class PreTokenizerRegexTests
{
    const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    static string[] Pieces(IPreTokenizer p, string text)
    {
        var output = new List<PreToken>();
        p.PreTokenize(new PreToken(text, true), output);
        return output.Select(t => t.Text).ToArray();
    }

    static SplitPreTokenizer Split(string pattern, string behavior, bool invert = false, bool regex = true) =>
        SplitPreTokenizer.Parse(JsonDocument.Parse(JsonSerializer.Serialize(new
        {
            type = "Split",
            pattern = regex ? (object)new { Regex = pattern } : new { String = pattern },
            behavior,
            invert,
        })).RootElement, "pre_tokenizer");

    // The examples of HF tokenizers' SplitDelimiterBehavior documentation.
    [Theory]
    [InlineData("Removed", new[] { "the", "final", "countdown" })]
    [InlineData("Isolated", new[] { "the", "-", "final", "-", "-", "countdown" })]
    [InlineData("MergedWithPrevious", new[] { "the-", "final-", "-", "countdown" })]
    [InlineData("MergedWithNext", new[] { "the", "-final", "-", "-countdown" })]
    [InlineData("Contiguous", new[] { "the", "-", "final", "--", "countdown" })]
    public void SplitBehaviorsMatchHuggingFaceExamples(string behavior, string[] expected)
    {
        Assert.Equal(expected, Pieces(Split("-", behavior, regex: false), "the-final--countdown"));
        Assert.Equal(expected, Pieces(Split("-", behavior), "the-final--countdown"));
    }

    [Fact]
    public void InvertSplitsOnTheNonMatches() =>
        Assert.Equal(new[] { "the", "final", "countdown" }, Pieces(Split("[a-z]+", "Removed", invert: true), "the-final--countdown")
            .Select(s => s.Trim('-')).Where(s => s.Length > 0));

    [Fact]
    public void StringPatternsAreLiteral() =>
        Assert.Equal(new[] { "a", ".", "b" }, Pieces(Split(".", "Isolated", regex: false), "a.b"));

    [Theory]
    [InlineData("a𝐁c d", new[] { "a𝐁c", " d" })]         // a mathematical letter outside the BMP is \p{L}
    [InlineData("x𠀀𠀁 y", new[] { "x𠀀𠀁", " y" })]         // CJK Extension B
    [InlineData("x𝟏𝟐𝟑𝟒y", new[] { "x", "𝟏𝟐𝟑", "𝟒", "y" })]  // astral digits are \p{N}, three at a time
    public void LettersAndDigitsOutsideTheBmpAreMatchedAsOniguruma(string text, string[] expected)
    {
        Assert.Equal(expected, Pieces(Split(Llama3Pattern, "Isolated"), text));
        // .NET alone sees surrogate halves, which are neither \p{L} nor \p{N}.
        Assert.NotEqual(expected, Regex.Matches(text, Llama3Pattern).Select(m => m.Value).ToArray());
    }

    [Fact]
    public void SymbolsOutsideTheBmpStayTogether() =>
        Assert.Equal(new[] { "😀😀", " a", " 👍🏽" }, Pieces(Split(Llama3Pattern, "Isolated"), "😀😀 a 👍🏽"));

    [Fact]
    public void CaseInsensitiveContractionsFoldLikeOniguruma()
    {
        var llama3 = Split(Llama3Pattern, "Isolated");
        // A contraction is split from the letters after it ("'st" would otherwise be one letters piece).
        Assert.Equal(new[] { "it", "'S", "t" }, Pieces(llama3, "it'St"));
        Assert.Equal(new[] { "it", "'\u017F", "t" }, Pieces(llama3, "it'\u017Ft")); // long s folds to s in Oniguruma
        Assert.Equal(new[] { "it", "'LL", "x" }, Pieces(llama3, "it'LLx"));
        Assert.Equal(new[] { "it", "'xt" }, Pieces(llama3, "it'xt"));
        // GPT-2's pattern is case-sensitive.
        var gpt2 = new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true);
        Assert.Equal(new[] { "it", "'", "S" }, Pieces(gpt2, "it'S"));
        Assert.Equal(new[] { "it", "'s" }, Pieces(gpt2, "it's"));
        Assert.Equal(new[] { "it", "'", "\u00C5\u00BF" }, Pieces(gpt2, "it'\u017F")); // byte-level: ſ is C5 BF
    }

    [Theory]
    [InlineData("(?i:'s|k)", "(?i:'[sS\u017F]|[kK\u212A])")]
    [InlineData(@"(?i:\p{Ls}s)s", @"(?i:\p{Ls}[sSſ])s")]
    [InlineData(@"(?i:[st\]])", @"(?i:[st\]ſ])")]
    [InlineData(@"[^s](?i)s", @"[^s](?i)[sSſ]")]
    [InlineData(@"\s+(?!\S)", @"\s+(?!\S)")]
    public void TranslationWidensOnlyCaseInsensitiveSAndK(string pattern, string expected) =>
        Assert.Equal(expected, OnigRegex.Translate(pattern));

    [Fact]
    public void WhiteSpaceIsUnicodeWhiteSpace()
    {
        // Oniguruma's \s is Unicode White_Space: NEL (U+0085) is in, the BOM (U+FEFF) is not (JavaScript has it the other way round).
        var llama3 = Split(Llama3Pattern, "Isolated");
        Assert.Equal(new[] { "\u0085", "\u0085a" }, Pieces(llama3, "\u0085\u0085a"));      // JavaScript: "\u0085\u0085", "a"
        Assert.Equal(new[] { "a", "\uFEFF\uFEFF", "b" }, Pieces(llama3, "a\uFEFF\uFEFFb")); // JavaScript: "a", "\uFEFF", "\uFEFFb"
    }

    [Fact]
    public void ByteLevelMapsBytesAndAddsThePrefixSpacePerPiece()
    {
        Assert.Equal(new[] { "ĠHello", "Ġworld", "Ċ" }, Pieces(new ByteLevelPreTokenizer(true, true), "Hello world\n"));
        Assert.Equal(new[] { "Hello", "Ġworld" }, Pieces(new ByteLevelPreTokenizer(false, true), "Hello world"));
        Assert.Equal(new[] { "HelloĠworld" }, Pieces(new ByteLevelPreTokenizer(false, false), "Hello world"));
        Assert.Equal(new[] { "Ã©", "ðŁĺĢ" }, Pieces(new ByteLevelPreTokenizer(false, true), "é😀"));
        Assert.Empty(Pieces(new ByteLevelPreTokenizer(true, true), ""));
    }

    [Fact]
    public void ByteLevelAlphabetIsGpt2s()
    {
        Assert.Equal('Ġ', ByteLevelAlphabet.CharOf(32));
        Assert.Equal('Ċ', ByteLevelAlphabet.CharOf(10));
        Assert.Equal('!', ByteLevelAlphabet.CharOf(33));
        Assert.Equal('\u0100', ByteLevelAlphabet.CharOf(0));
        Assert.Equal('\u0143', ByteLevelAlphabet.CharOf(173));
        Assert.Equal(256, Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.CharOf((byte)b)).Distinct().Count());
    }
}
