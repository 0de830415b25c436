using System.Text.Json;

namespace Qzo.Text;

/// <summary>
/// A Hugging Face tokenizer.json tokenizer (BPE with byte fallback: the Llama-2 kind), encoding and decoding exactly as
/// the Rust <c>tokenizers</c> library does: added tokens → normalizer → pre-tokenizer → BPE → post-processor.
/// Thread-safe.
/// </summary>
public sealed class Tokenizer
{
    readonly AddedVocabulary _added;
    readonly INormalizer? _normalizer;
    readonly IPreTokenizer? _preTokenizer;
    readonly BpeModel _model;
    IPostProcessor? _postProcessor; // replaced by ApplyConfig for Llama tokenizer classes
    readonly IDecoder? _decoder;

    Tokenizer(AddedVocabulary added, INormalizer? normalizer, IPreTokenizer? preTokenizer, BpeModel model,
        IPostProcessor? postProcessor, IDecoder? decoder)
    {
        _added = added;
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _model = model;
        _postProcessor = postProcessor;
        _decoder = decoder;
        VocabSize = Math.Max(model.MaxId, added.MaxId) + 1;
    }

    /// <summary>Model vocab plus added tokens: the largest id + 1.</summary>
    public int VocabSize { get; }
    public int? BosId { get; private set; }
    public int? EosId { get; private set; }
    public int? PadId { get; private set; }
    public int? UnkId { get; private set; }

    /// <summary>Reads <c>tokenizer.json</c> (required) and <c>tokenizer_config.json</c> (if present) from a checkpoint folder.</summary>
    public static Tokenizer Load(string directory)
    {
        string path = Path.Combine(directory, "tokenizer.json");
        string configPath = Path.Combine(directory, "tokenizer_config.json");
        if (!File.Exists(path)) throw new QzoException($"{path}: not found (Qzo needs a Hugging Face tokenizer.json)");
        return Build(ReadText(path), File.Exists(configPath) ? ReadText(configPath) : null, path, configPath);
    }

    public static Tokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson = null, string sourceName = "tokenizer.json") =>
        Build(tokenizerJson, tokenizerConfigJson, sourceName, Path.Combine(Path.GetDirectoryName(sourceName) ?? "", "tokenizer_config.json"));

    static string ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new QzoException($"{path}: cannot read ({e.Message})", e); }
    }

    static Tokenizer Build(string tokenizerJson, string? configJson, string sourceName, string configName)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        var config = configJson is null ? null : WithFile(configName, configJson, TokenizerConfig.Parse);
        var tokenizer = WithFile(sourceName, tokenizerJson, root =>
        {
            if (root.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException("the top level must be an object");
            var normalizer = Normalizers.Parse(root.Optional("normalizer"));
            return new Tokenizer(
                new AddedVocabulary(AddedVocabulary.Parse(root.Optional("added_tokens")), normalizer),
                normalizer,
                PreTokenizers.Parse(root.Optional("pre_tokenizer")),
                BpeModel.Parse(root.Required("model", "the top level")),
                PostProcessors.Parse(root.Optional("post_processor")),
                Decoders.Parse(root.Optional("decoder")));
        });
        try { tokenizer.ApplyConfig(config); }
        catch (TokenizerFormatException e) { throw new QzoException($"{configName}: {e.Message}", e); }
        return tokenizer;
    }

    /// <summary>Runs a parser over a JSON file; every format problem becomes a one-line QzoException naming the file.</summary>
    static T WithFile<T>(string fileName, string json, Func<JsonElement, T> parse)
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

    void ApplyConfig(TokenizerConfig? config)
    {
        // Config names win ("" = explicitly none); without one, the model's unk token and the Llama names.
        UnkId = Id(config?.UnkToken ?? _model.UnkToken);
        BosId = Id(config?.BosToken ?? "<s>");
        EosId = Id(config?.EosToken ?? "</s>");
        PadId = Id(config?.PadToken);
        if (config is { OverridesPostProcessor: true })
        {
            bool addBos = config.AddBosToken ?? true, addEos = config.AddEosToken ?? false;
            if ((addBos && BosId is null) || (addEos && EosId is null))
                throw new TokenizerFormatException($"add_{(addBos && BosId is null ? "bos" : "eos")}_token is true but that token is not in the vocab");
            var single = new List<int[]?>();
            if (addBos) single.Add([BosId!.Value]);
            single.Add(null);
            if (addEos) single.Add([EosId!.Value]);
            _postProcessor = new TemplateProcessor(single.ToArray());
        }

        int? Id(string? token) => string.IsNullOrEmpty(token) ? null : TokenToId(token);
    }

    /// <summary>Text → ids. <paramref name="addSpecialTokens"/> applies the post-processor (for Llama-2: BOS first).</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        var pieces = new List<PreToken>();
        foreach (var segment in _added.SplitAndNormalize(text, _normalizer))
        {
            if (segment.IsAddedToken)
            {
                ids.Add(segment.AddedId);
                continue;
            }
            var piece = new PreToken(segment.Text, segment.AtStart);
            if (_preTokenizer is null)
            {
                _model.Tokenize(piece.Text, ids);
                continue;
            }
            pieces.Clear();
            _preTokenizer.PreTokenize(piece, pieces);
            foreach (var p in pieces) _model.Tokenize(p.Text, ids);
        }
        return (_postProcessor?.Process(ids, addSpecialTokens) ?? ids).ToArray();
    }

    /// <summary>Ids → text through the decoder. Ids that are in no vocabulary are skipped, as HF does.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            string? token = _added.DecodeString(id) ?? _model.IdToToken(id);
            if (token is null || (skipSpecialTokens && _added.IsSpecial(token))) continue;
            tokens.Add(token);
        }
        return _decoder is null ? string.Join(" ", tokens) : string.Concat(_decoder.DecodeChain(tokens));
    }

    public int? TokenToId(string token) => _added.TokenToId(token) ?? _model.TokenToId(token);

    public string IdToToken(int id) =>
        _added.DecodeString(id) ?? _model.IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(id), id, $"no token has id {id} (vocab size {VocabSize})");
}
