using System.Text.Json.Nodes;
using Qzo.Text;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

public sealed class TokenizerErrorTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "qzo-tokenizer-test-" + Guid.NewGuid().ToString("N"));

    public TokenizerErrorTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static QzoException LoadFails(string json, string? config = null) =>
        Assert.Throws<QzoException>(() => Tokenizer.FromJson(json, config, "/ckpt/tokenizer.json"));

    static string Minimal(string model = """{"type": "BPE", "vocab": {"a": 0}, "merges": []}""", string extra = "") =>
        $$"""{"version": "1.0", {{extra}} "model": {{model}}}""";

    [Fact]
    public void AFolderWithoutTokenizerFilesNamesTheFolderAndTheFilesLookedFor()
    {
        File.WriteAllText(Path.Combine(_dir, "vocab.json"), "{}"); // without merges.txt it is not a tokenizer
        var e = Assert.Throws<QzoException>(() => Tokenizer.Load(_dir));
        Assert.Contains(_dir, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("tokenizer.model", e.Message);
        Assert.Contains("merges.txt", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Tokenizer.IsPresent(_dir));
    }

    [Fact]
    public void AMissingFolderIsNamed()
    {
        string missing = Path.Combine(_dir, "nope");
        Assert.Contains(missing, Assert.Throws<QzoException>(() => Tokenizer.Load(missing)).Message);
    }

    [Fact]
    public void TokenizerJsonIsPreferredOverTheOtherFormats()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), Minimal());
        File.WriteAllText(Path.Combine(_dir, "tokenizer.model"), "not protobuf");
        File.WriteAllText(Path.Combine(_dir, "vocab.json"), "not json");
        File.WriteAllText(Path.Combine(_dir, "merges.txt"), "");
        Assert.Equal(new[] { 0 }, Tokenizer.Load(_dir).Encode("a"));
    }

    [Fact]
    public void BadMergesTxtNamesTheFileAndLine()
    {
        File.WriteAllText(Path.Combine(_dir, "vocab.json"), """{"a": 0, "b": 1, "ab": 2}""");
        File.WriteAllText(Path.Combine(_dir, "merges.txt"), "#version: 0.2\na b\na b c\n");
        var e = Assert.Throws<QzoException>(() => Tokenizer.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "merges.txt"), e.Message);
        Assert.Contains("line 3", e.Message);
        File.WriteAllText(Path.Combine(_dir, "merges.txt"), "a x\n");
        Assert.Contains("\"x\"", Assert.Throws<QzoException>(() => Tokenizer.Load(_dir)).Message);
        File.WriteAllText(Path.Combine(_dir, "vocab.json"), """["a"]""");
        Assert.Contains(Path.Combine(_dir, "vocab.json"), Assert.Throws<QzoException>(() => Tokenizer.Load(_dir)).Message);
    }

    [Fact]
    public void CorruptJsonNamesTheFile()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), "{\"model\": {\"type\": \"BPE\", ");
        var e = Assert.Throws<QzoException>(() => Tokenizer.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "tokenizer.json"), e.Message);
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void CorruptConfigNamesTheConfigFile()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), Minimal());
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), "{ nope");
        var e = Assert.Throws<QzoException>(() => Tokenizer.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "tokenizer_config.json"), e.Message);
    }

    [Fact]
    public void LoadsAFolderWithoutConfig()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), Minimal());
        var t = Tokenizer.Load(_dir);
        Assert.Equal(new[] { 0, 0 }, t.Encode("aa"));
        Assert.Null(t.BosId);
    }

    [Fact]
    public void UnsupportedModelTypeNamesFileAndType()
    {
        var e = LoadFails(Minimal("""{"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "a"}"""));
        Assert.Contains("/ckpt/tokenizer.json", e.Message);
        Assert.Contains("WordPiece", e.Message);
    }

    [Theory]
    [InlineData("\"normalizer\": {\"type\": \"BertNormalizer\"},", "BertNormalizer")]
    [InlineData("\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},", "BertPreTokenizer")]
    [InlineData("\"decoder\": {\"type\": \"WordPiece\"},", "WordPiece")]
    [InlineData("\"post_processor\": {\"type\": \"FutureProcessing\"},", "FutureProcessing")]
    [InlineData("\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"a++\"}, \"behavior\": \"Isolated\"},", "a++")]
    [InlineData("\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \"a\"}, \"behavior\": \"Glued\"},", "Glued")]
    [InlineData("\"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"a++\"}, \"content\": \" \"},", "a++")]
    [InlineData("\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"AQID\"},", "precompiled_charsmap")]
    [InlineData("\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"not base64!\"},", "base64")]
    public void UnsupportedComponentsNameTheirType(string extra, string name)
    {
        var e = LoadFails(Minimal(extra: extra));
        Assert.Contains("/ckpt/tokenizer.json", e.Message);
        Assert.Contains(name, e.Message);
    }

    [Theory]
    [InlineData("""{"type": "BPE", "dropout": 0.1, "vocab": {"a": 0}, "merges": []}""", "dropout")]
    [InlineData("""{"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}""", "\"b\"")]
    [InlineData("""{"type": "BPE", "vocab": {"a": 0}, "merges": ["a a a"]}""", "merges[0]")]
    [InlineData("""{"type": "BPE", "vocab": {"a": 0}}""", "merges")]
    public void BadModelsSayWhatIsWrong(string model, string detail)
    {
        var e = LoadFails(Minimal(model));
        Assert.Contains("/ckpt/tokenizer.json", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void UnicodeNormalizersWorkOrRefuseLoudly()
    {
        string json = Minimal("""{"type": "BPE", "vocab": {"é": 0, "e": 1, "\u0301": 2, "<0xCC>": 3, "<0x81>": 4}""" +
            """, "merges": [], "byte_fallback": true}""",
            """ "normalizer": {"type": "NFC"}, """);
        // Without ICU (InvariantGlobalization, or no libicu) string.Normalize
        // returns non-ASCII text unchanged, so NFC/NFKC tokenizers are refused rather than silently mis-tokenized.
        if (UnicodeNormalizer.IsAvailable)
            Assert.Equal(new[] { 0 }, Tokenizer.FromJson(json).Encode("e\u0301"));
        else
            Assert.Contains("NFC", LoadFails(json).Message);
    }

    [Fact]
    public void AddBosWithABosTokenMissingFromTheVocabIsAnError()
    {
        // transformers would give "<nope>" a new id past the vocabulary; Qzo refuses rather than invent one.
        File.WriteAllText(Path.Combine(_dir, "vocab.json"), """{"a": 0}""");
        File.WriteAllText(Path.Combine(_dir, "merges.txt"), "#version: 0.2\n");
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"),
            """{"tokenizer_class": "GPT2Tokenizer", "add_bos_token": true, "bos_token": "<nope>"}""");
        var e = Assert.Throws<QzoException>(() => Tokenizer.Load(_dir));
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("add_bos_token", e.Message);
        // Without a BOS token at all, add_bos_token adds nothing, as in transformers.
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"),
            """{"tokenizer_class": "GPT2Tokenizer", "add_bos_token": true, "bos_token": null}""");
        Assert.Equal(new[] { 0 }, Tokenizer.Load(_dir).Encode("a"));
    }

    [Fact]
    public void EncodeAndDecodeRejectNothingButNull()
    {
        Assert.Throws<ArgumentNullException>(() => Llama2.Encode(null!));
        Assert.Equal("", Llama2.Decode([]));
    }

    [Fact]
    public void AFixtureVariantWithAnUnknownTopLevelFieldStillLoads()
    {
        var t = Tokenizer.FromJson(JsonWith(root => root["something_new"] = new JsonObject()));
        Assert.Equal(32000, t.VocabSize);
    }
}
