using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// Finds and reads the tokenizer files a Hugging Face Hub repository ships, in transformers' order of preference:
/// tokenizer.json, else tokenizer.model or spiece.model (SentencePiece; T5's name), else vocab.json + merges.txt (GPT-2
/// and CLIP style);
/// tokenizer_config.json alongside when present. Every format problem becomes a one-line QzoException naming the file.
/// </summary>
internal static class TokenizerLoader
{
    public const string JsonFile = "tokenizer.json", ModelFile = "tokenizer.model", T5ModelFile = "spiece.model", VocabFile = "vocab.json",
        MergesFile = "merges.txt", ConfigFile = "tokenizer_config.json";

    public enum Source { TokenizerJson, SentencePieceModel, VocabAndMerges }

    public static Source? FindSource(string directory)
    {
        if (File.Exists(Path.Combine(directory, JsonFile))) return Source.TokenizerJson;
        if (SentencePieceFile(directory) is not null) return Source.SentencePieceModel;
        if (File.Exists(Path.Combine(directory, VocabFile))
            && File.Exists(Path.Combine(directory, MergesFile))) return Source.VocabAndMerges;
        return null;
    }

    static string? SentencePieceFile(string directory) =>
        new[] { ModelFile, T5ModelFile }.Select(name => Path.Combine(directory, name)).FirstOrDefault(File.Exists);

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
                string modelPath = SentencePieceFile(directory)!;
                var spConfig = ParseConfig(configJson, configPath);
                return Finish(WithFile(modelPath, () => SentencePieceImporter.Build(SentencePieceModel.Parse(ReadBytes(modelPath)),
                    spConfig)), spConfig, configPath);
            case Source.VocabAndMerges:
                string vocabPath = Path.Combine(directory, VocabFile), mergesPath = Path.Combine(directory, MergesFile);
                var gptConfig = ParseConfig(configJson, configPath);
                var vocab = WithJson(vocabPath, ReadText(vocabPath), VocabAndMergesImporter.ParseVocab);
                var merges = WithFile(mergesPath, () => VocabAndMergesImporter.ParseMerges(File.ReadLines(mergesPath)));
                var kind = WithFile(configPath, () => VocabAndMergesImporter.ClassOf(gptConfig));
                return Finish(WithFile(mergesPath, () => VocabAndMergesImporter.Build(vocab, merges, gptConfig, kind)), gptConfig,
                    configPath);
            default:
                throw new QzoException(
                    $"{directory}: no tokenizer files (looked for {JsonFile}, {ModelFile}, {T5ModelFile}, {VocabFile} + {MergesFile})");
        }
    }

    public static Tokenizer FromJson(string tokenizerJson, string? configJson, string sourceName, string configName)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        var config = ParseConfig(configJson, configName);
        var built = WithJson(sourceName, tokenizerJson, root =>
        {
            if (root.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException("the top level must be an object");
            return BuildFromJson(root, config);
        });
        return Finish(built, config, configName);
    }

    /// <summary>
    /// tokenizer.json as transformers 5 loads it: the file's own pipeline for TokenizersBackend, else the class's
    /// pipeline over the file's vocabulary and merges (<see cref="TokenizerClasses"/>). Either way the file's added
    /// tokens and post-processor are kept, and add_bos_token / add_eos_token are ignored (transformers drops them when
    /// there is a tokenizer.json).
    /// </summary>
    static (Tokenizer, TokenizerDefaults) BuildFromJson(JsonElement root, TokenizerConfig? config)
    {
        var kind = config?.Kind ?? TokenizerClassKind.Backend;
        // A byte-level file under LlamaTokenizer's name (DeepSeek's Llama distillations) keeps its own pipeline:
        // Metaspace would drop every space of such a vocabulary (transformers issue #45488; PR #47017 routes these
        // files to TokenizersBackend).
        if (kind == TokenizerClassKind.Llama && (HasType(root.Optional("pre_tokenizer"), "ByteLevel") || HasType(root.Optional("decoder"),
            "ByteLevel")))
            kind = TokenizerClassKind.Backend;

        var modelJson = root.Required("model", "the top level");
        string modelType = ModelType(modelJson);
        var added = AddedVocabulary.Parse(root.Optional("added_tokens"));
        if (kind == TokenizerClassKind.T5)
        {
            if (modelType != "Unigram") throw new TokenizerFormatException($"model: T5Tokenizer needs a Unigram model, not {modelType}");
            var charsMap = T5TokenizerClass.CharsMapFromJson(root.Optional("normalizer"));
            return T5TokenizerClass.Build(UnigramModel.ParseVocab(modelJson), charsMap, added, config);
        }
        if (modelType == "Unigram")
        {
            if (kind != TokenizerClassKind.Backend)
                throw new TokenizerFormatException($"model: tokenizer_class {config!.TokenizerClass} needs a BPE model, not Unigram");
            return Assemble(kind, UnigramModel.Parse(modelJson), Normalizers.Parse(root.Optional("normalizer")),
                PreTokenizers.Parse(root.Optional("pre_tokenizer")), Decoders.Parse(root.Optional("decoder")), added, root, config);
        }

        var spec = BpeModel.ParseSpec(modelJson);
        switch (kind)
        {
            case TokenizerClassKind.Clip:
                return ClipTokenizerClass.Build(spec.Vocab, spec.Merges, added, config);
            case TokenizerClassKind.Llama:
                return Assemble(kind, TokenizerClasses.LlamaModel(spec.Vocab, spec.Merges).Build(), null,
                    TokenizerClasses.LlamaPreTokenizer(config), TokenizerClasses.LlamaDecoder(config), added, root, config);
            case TokenizerClassKind.Gpt2:
                return Assemble(kind, TokenizerClasses.ByteLevelModel(spec.Vocab, spec.Merges).Build(), null,
                    TokenizerClasses.Gpt2PreTokenizer(config), new ByteLevelDecoder(), added, root, config);
            case TokenizerClassKind.Qwen2:
                return Assemble(kind, TokenizerClasses.ByteLevelModel(spec.Vocab, spec.Merges).Build(), TokenizerClasses.Qwen2Normalizer(),
                    TokenizerClasses.Qwen2PreTokenizer(config), new ByteLevelDecoder(), added, root, config);
            case TokenizerClassKind.Gemma:
                return Assemble(kind, TokenizerClasses.GemmaModel(spec.Vocab, spec.Merges, config).Build(),
                    TokenizerClasses.GemmaNormalizer(), TokenizerClasses.GemmaPreTokenizer(), TokenizerClasses.GemmaDecoder(), added, root,
                    config);
            default:
                return Assemble(kind, spec.Build(), Normalizers.Parse(root.Optional("normalizer")),
                    PreTokenizers.Parse(root.Optional("pre_tokenizer")), Decoders.Parse(root.Optional("decoder")), added, root, config);
        }
    }

    /// <summary>"BPE" (also an old file's model without "type" but with merges) or "Unigram"; other models are refused.</summary>
    static string ModelType(JsonElement model)
    {
        string type = model.ValueKind == JsonValueKind.Object && model.Optional("type") is null && model.Optional("merges") is not null
            ? "BPE" : model.TypeOf("model");
        return type is "BPE" or "Unigram" ? type
            : throw new TokenizerFormatException($"model: unsupported model type \"{type}\" (only BPE and Unigram are supported)");
    }

    /// <summary>
    /// A tokenizer.json pipeline with the file's added tokens and post-processor, plus the special tokens the config
    /// (or the class) names and added_tokens_decoder.
    /// </summary>
    static (Tokenizer, TokenizerDefaults) Assemble(TokenizerClassKind kind, ITokenizerModel model, INormalizer? normalizer,
        IPreTokenizer? preTokenizer, IDecoder? decoder, List<AddedToken> added, JsonElement root, TokenizerConfig? config)
    {
        TokenizerClasses.AddMissing(added, config?.AddedTokensDecoder ?? []);
        var names = TokenizerClasses.DefaultSpecialTokens(kind);
        TokenizerClasses.AddNamedSpecialTokens(added,
            [config?.BosToken ?? names.Bos, config?.EosToken ?? names.Eos, config?.UnkToken ?? names.Unk, config?.PadToken ?? names.Pad],
                model.TokenToId);
        var tokenizer = new Tokenizer(new AddedVocabulary(added, normalizer), normalizer, preTokenizer, model,
            PostProcessors.Parse(root.Optional("post_processor")), decoder);
        // TokenizersBackend names no special tokens of its own; Qzo still finds the usual ones for BosId/EosId.
        var defaults = kind == TokenizerClassKind.Backend
            ? new TokenizerDefaults(model.UnkToken, "<s>", "</s>", null, PostProcessorFromFlags: false)
            : new TokenizerDefaults(names.Unk, names.Bos, names.Eos, names.Pad, PostProcessorFromFlags: false);
        return (tokenizer, defaults);
    }

    /// <summary>Whether a pre-tokenizer or decoder, or any step of a Sequence, has the given type.</summary>
    static bool HasType(JsonElement? json, string type)
    {
        if (json is not { ValueKind: JsonValueKind.Object } j) return false;
        if (j.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type) return true;
        foreach (var list in new[] { "pretokenizers", "decoders" })
            if (j.TryGetProperty(list, out var steps) && steps.ValueKind == JsonValueKind.Array
                && steps.EnumerateArray().Any(step => HasType(step, type)))
                return true;
        return false;
    }

    static Tokenizer Finish((Tokenizer Tokenizer, TokenizerDefaults Defaults) built, TokenizerConfig? config, string configName)
    {
        try { built.Tokenizer.ApplyConfig(config, built.Defaults); }
        catch (TokenizerFormatException e) { throw new QzoException($"{configName}: {e.Message}", e); }
        return built.Tokenizer;
    }

    static TokenizerConfig? ParseConfig(string? configJson, string configName) =>
        configJson is null ? null : WithJson(configName, configJson, TokenizerConfig.Parse);

    /// <summary>A JSON file's text; JSON must be UTF-8, so invalid bytes are refused rather than replaced.</summary>
    static string ReadText(string path) => Qzo.IO.StrictUtf8.ReadAllText(path);

    static byte[] ReadBytes(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { throw new QzoException($"{path}: cannot read ({e.Message})", e); }
    }

    static T WithFile<T>(string fileName, Func<T> read)
    {
        try { return read(); }
        catch (TokenizerFormatException e) { throw new QzoException($"{fileName}: {e.Message}", e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { throw new QzoException($"{fileName}: cannot read ({e.Message})", e); }
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
