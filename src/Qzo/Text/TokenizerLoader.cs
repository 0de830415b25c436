using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// Finds and reads the tokenizer files a Hugging Face Hub repository ships, in transformers' order of preference:
/// tokenizer.json, else tokenizer.model (SentencePiece), else vocab.json + merges.txt (GPT-2 style);
/// tokenizer_config.json alongside when present. Every format problem becomes a one-line QzoException naming the file.
/// </summary>
internal static class TokenizerLoader
{
    public const string JsonFile = "tokenizer.json", ModelFile = "tokenizer.model", VocabFile = "vocab.json", MergesFile = "merges.txt",
        ConfigFile = "tokenizer_config.json";

    public enum Source { TokenizerJson, SentencePieceModel, VocabAndMerges }

    public static Source? FindSource(string directory)
    {
        if (File.Exists(Path.Combine(directory, JsonFile))) return Source.TokenizerJson;
        if (File.Exists(Path.Combine(directory, ModelFile))) return Source.SentencePieceModel;
        if (File.Exists(Path.Combine(directory, VocabFile)) && File.Exists(Path.Combine(directory, MergesFile))) return Source.VocabAndMerges;
        return null;
    }

    public static Tokenizer Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory)) throw new QzoException($"{directory}: no such folder (expected a tokenizer folder)");
        string configPath = Path.Combine(directory, ConfigFile);
        string? configJson = File.Exists(configPath) ? ReadText(configPath) : null;
        switch (FindSource(directory))
        {
            case Source.TokenizerJson:
                string jsonPath = Path.Combine(directory, JsonFile);
                return FromJson(ReadText(jsonPath), configJson, jsonPath, configPath);
            case Source.SentencePieceModel:
                string modelPath = Path.Combine(directory, ModelFile);
                var spConfig = ParseConfig(configJson, configPath);
                return Finish(WithFile(modelPath, () => SentencePieceImporter.Build(SentencePieceModel.Parse(ReadBytes(modelPath)), spConfig)), spConfig, configPath);
            case Source.VocabAndMerges:
                string vocabPath = Path.Combine(directory, VocabFile), mergesPath = Path.Combine(directory, MergesFile);
                var gptConfig = ParseConfig(configJson, configPath);
                var vocab = WithJson(vocabPath, ReadText(vocabPath), VocabAndMergesImporter.ParseVocab);
                var merges = WithFile(mergesPath, () => VocabAndMergesImporter.ParseMerges(File.ReadLines(mergesPath)));
                bool qwen2 = WithFile(configPath, () => VocabAndMergesImporter.IsQwen2(gptConfig));
                return Finish(WithFile(mergesPath, () => VocabAndMergesImporter.Build(vocab, merges, gptConfig, qwen2)), gptConfig, configPath);
            default:
                throw new QzoException($"{directory}: no tokenizer files (looked for {JsonFile}, {ModelFile}, {VocabFile} + {MergesFile})");
        }
    }

    public static Tokenizer FromJson(string tokenizerJson, string? configJson, string sourceName, string configName)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        var config = ParseConfig(configJson, configName);
        var built = WithJson(sourceName, tokenizerJson, root =>
        {
            if (root.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException("the top level must be an object");
            var normalizer = Normalizers.Parse(root.Optional("normalizer"));
            var model = BpeModel.Parse(root.Required("model", "the top level"));
            var tokenizer = new Tokenizer(
                new AddedVocabulary(AddedVocabulary.Parse(root.Optional("added_tokens")), normalizer),
                normalizer,
                PreTokenizers.Parse(root.Optional("pre_tokenizer")),
                model,
                PostProcessors.Parse(root.Optional("post_processor")),
                Decoders.Parse(root.Optional("decoder")));
            return (tokenizer, new TokenizerDefaults(model.UnkToken, "<s>", "</s>", AddBosToken: true, PostProcessorFromConfig: false));
        });
        return Finish(built, config, configName);
    }

    static Tokenizer Finish((Tokenizer Tokenizer, TokenizerDefaults Defaults) built, TokenizerConfig? config, string configName)
    {
        try { built.Tokenizer.ApplyConfig(config, built.Defaults); }
        catch (TokenizerFormatException e) { throw new QzoException($"{configName}: {e.Message}", e); }
        return built.Tokenizer;
    }

    static TokenizerConfig? ParseConfig(string? configJson, string configName) =>
        configJson is null ? null : WithJson(configName, configJson, TokenizerConfig.Parse);

    static string ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new QzoException($"{path}: cannot read ({e.Message})", e); }
    }

    static byte[] ReadBytes(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new QzoException($"{path}: cannot read ({e.Message})", e); }
    }

    static T WithFile<T>(string fileName, Func<T> read)
    {
        try { return read(); }
        catch (TokenizerFormatException e) { throw new QzoException($"{fileName}: {e.Message}", e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new QzoException($"{fileName}: cannot read ({e.Message})", e); }
    }

    /// <summary>Runs a parser over a JSON file; every format problem becomes a one-line QzoException naming the file.</summary>
    static T WithJson<T>(string fileName, string json, Func<JsonElement, T> parse)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
            return parse(doc.RootElement);
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
            throw new QzoException($"{fileName}: not valid JSON{where}", e);
        }
        catch (TokenizerFormatException e)
        {
            throw new QzoException($"{fileName}: {e.Message}", e);
        }
    }
}
