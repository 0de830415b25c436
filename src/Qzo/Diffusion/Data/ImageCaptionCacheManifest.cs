using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Diffusion.Data;

/// <summary>One cached example as cache.json lists it: which latent copy and which caption's embeddings it reads.</summary>
public sealed record CachedExampleInfo(string Source, string Caption, string Split, bool Mirrored, int Latent, int Prompt)
{
    public const string TrainSplit = "train", ValidationSplit = "validation";
}

/// <summary>The data a cache was built from: the path given, the root its files are relative to, and their fingerprints.</summary>
public sealed record CacheDataInfo(string Path, string Root, string Kind, string Fingerprint, IReadOnlyList<FileFingerprint> Files);

/// <summary>An image left out by --skip-bad-images, and why.</summary>
public sealed record SkippedImage(string Source, string Reason);

/// <summary>
/// cache.json, the index of an image–caption cache (docs/diffusion-training.md, "Cache"): the model and data it was
/// built from (with file fingerprints, so a stale cache is recognised), the settings, the shapes and dtypes of the
/// tensors, the unique captions and every example. The tensors live beside it: latents.safetensors
/// ("{latent:D8}.mean" and ".std", fp32 [C, h, w]); clip_l.safetensors and clip_g.safetensors ("{prompt:D8}.hidden"
/// [77, width] and ".pooled" [projection]); t5.safetensors ("{prompt:D8}.hidden" [max_sequence_length, d_model]) unless
/// T5 was skipped. Embeddings are stored in <see cref="EmbeddingDType"/>.
/// </summary>
public sealed record ImageCaptionCacheManifest
{
    public const string FileName = "cache.json";
    public const string FormatName = "qzo-image-caption-cache";
    public const int CurrentVersion = 1;
    public const string LatentsFile = "latents.safetensors", ClipLFile = "clip_l.safetensors", ClipGFile = "clip_g.safetensors",
                        T5File = "t5.safetensors";

    public required string ModelPath { get; init; }
    public required string ModelFingerprint { get; init; }
    public required IReadOnlyList<FileFingerprint> ModelFiles { get; init; }
    public required CacheDataInfo Data { get; init; }
    public required CacheDataInfo? ValidationData { get; init; }
    public required ImageCaptionCacheSettings Settings { get; init; }
    public required string Device { get; init; }
    public required DType EmbeddingDType { get; init; }
    public required int LatentChannels { get; init; }
    public required int LatentHeight { get; init; }
    public required int LatentWidth { get; init; }
    public required int T5Tokens { get; init; }
    public required bool T5Stored { get; init; }
    public required int JointDim { get; init; }
    public required int ClipLWidth { get; init; }
    public required int ClipGWidth { get; init; }
    public required int ClipLPooled { get; init; }
    public required int ClipGPooled { get; init; }
    public required IReadOnlyList<string> Captions { get; init; }
    public required IReadOnlyList<CachedExampleInfo> Examples { get; init; }
    public required IReadOnlyList<SkippedImage> Skipped { get; init; }

    public int LatentCount => Examples.Count == 0 ? 0 : Examples.Max(e => e.Latent) + 1;
    public int PooledDim => ClipLPooled + ClipGPooled;
    public int PromptTokens => Diffusion.Pipelines.Sd3PromptEncoder.ClipTokens + T5Tokens;

    /// <summary>A tensor's name in the cache files: the example's latent or caption index, then the part.</summary>
    public static string TensorName(int index, string part) => $"{index:D8}.{part}";

    public JsonObject ToJson() => new()
    {
        ["format"] = FormatName, ["version"] = CurrentVersion,
        ["model"] = new JsonObject
        {
            ["path"] = ModelPath, ["fingerprint"] = ModelFingerprint, ["files"] = Array(ModelFiles.Select(f => f.ToJson())),
        },
        ["data"] = DataJson(Data), ["validation_data"] = ValidationData is null ? null : DataJson(ValidationData),
        ["settings"] = Settings.ToJson(), ["device"] = Device, ["embedding_dtype"] = EmbeddingDType.Name(),
        ["latent"] = new JsonObject { ["channels"] = LatentChannels, ["height"] = LatentHeight, ["width"] = LatentWidth },
        ["prompt"] = new JsonObject
        {
            ["clip_tokens"] = Diffusion.Pipelines.Sd3PromptEncoder.ClipTokens, ["t5_tokens"] = T5Tokens, ["t5_stored"] = T5Stored,
            ["joint_dim"] = JointDim, ["clip_l_width"] = ClipLWidth, ["clip_g_width"] = ClipGWidth,
            ["clip_l_pooled"] = ClipLPooled, ["clip_g_pooled"] = ClipGPooled,
        },
        ["counts"] = new JsonObject
        {
            ["train"] = Examples.Count(e => e.Split == CachedExampleInfo.TrainSplit),
            ["validation"] = Examples.Count(e => e.Split == CachedExampleInfo.ValidationSplit),
            ["latents"] = LatentCount, ["captions"] = Captions.Count, ["skipped"] = Skipped.Count,
        },
        ["captions"] = Array(Captions.Select(c => (JsonNode)c)),
        ["examples"] = Array(Examples.Select(e => new JsonObject
        {
            ["source"] = e.Source, ["caption"] = e.Caption, ["split"] = e.Split, ["mirrored"] = e.Mirrored, ["latent"] = e.Latent,
            ["prompt"] = e.Prompt,
        })),
        ["skipped"] = Array(Skipped.Select(s => new JsonObject { ["source"] = s.Source, ["reason"] = s.Reason })),
    };

    /// <summary>Reads and checks <paramref name="folder"/>/cache.json; anything missing or inconsistent is one line naming it.</summary>
    public static ImageCaptionCacheManifest Read(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
            throw new QzoException($"{folder}: not an image–caption cache (no {FileName}; `qzo prepare` makes one)");
        var o = StrictJson.Parse(StrictUtf8.ReadAllText(path, "cache index"), path) as JsonObject
                ?? throw new QzoException($"{path}: not a JSON object");
        if (o["format"]?.GetValue<string>() != FormatName) throw new QzoException($"{path}: not a {FormatName} index");
        int version = JsonFields.Required<int>(o, "version", path);
        if (version != CurrentVersion)
            throw new QzoException($"{path}: cache format version {version}; this Qzo reads version {CurrentVersion} (prepare it again)");
        var model = JsonFields.RequiredObject(o, "model", path);
        var latent = JsonFields.RequiredObject(o, "latent", path);
        var prompt = JsonFields.RequiredObject(o, "prompt", path);
        var manifest = new ImageCaptionCacheManifest
        {
            ModelPath = JsonFields.Required<string>(model, "path", path),
            ModelFingerprint = JsonFields.Required<string>(model, "fingerprint", path),
            ModelFiles = Objects(model, "files", path).Select(f => FileFingerprint.FromJson(f, path)).ToList(),
            Data = DataFromJson(JsonFields.RequiredObject(o, "data", path), path),
            ValidationData = o["validation_data"] is JsonObject v ? DataFromJson(v, path) : null,
            Settings = ImageCaptionCacheSettings.FromJson(JsonFields.RequiredObject(o, "settings", path), path),
            Device = JsonFields.Required<string>(o, "device", path),
            EmbeddingDType = JsonFields.Required<string>(o, "embedding_dtype", path) switch
            {
                "F32" => DType.F32, "BF16" => DType.BF16, "F16" => DType.F16,
                var other => throw new QzoException($"{path}: embedding_dtype '{other}' is not F32, BF16 or F16"),
            },
            LatentChannels = JsonFields.Required<int>(latent, "channels", path),
            LatentHeight = JsonFields.Required<int>(latent, "height", path),
            LatentWidth = JsonFields.Required<int>(latent, "width", path),
            T5Tokens = JsonFields.Required<int>(prompt, "t5_tokens", path),
            T5Stored = JsonFields.Required<bool>(prompt, "t5_stored", path),
            JointDim = JsonFields.Required<int>(prompt, "joint_dim", path),
            ClipLWidth = JsonFields.Required<int>(prompt, "clip_l_width", path),
            ClipGWidth = JsonFields.Required<int>(prompt, "clip_g_width", path),
            ClipLPooled = JsonFields.Required<int>(prompt, "clip_l_pooled", path),
            ClipGPooled = JsonFields.Required<int>(prompt, "clip_g_pooled", path),
            Captions = JsonFields.RequiredArray(o, "captions", path)
                .Select(c => c is JsonValue s && s.TryGetValue(out string? text) ? text : throw new QzoException($"{path}: a caption " +
                             "that is not a string")).ToList(),
            Examples = Objects(o, "examples", path).Select(e => new CachedExampleInfo(
                JsonFields.Required<string>(e, "source", path), JsonFields.Required<string>(e, "caption", path),
                JsonFields.Required<string>(e, "split", path), JsonFields.Required<bool>(e, "mirrored", path),
                JsonFields.Required<int>(e, "latent", path), JsonFields.Required<int>(e, "prompt", path))).ToList(),
            Skipped = Objects(o, "skipped", path).Select(s => new SkippedImage(
                JsonFields.Required<string>(s, "source", path), JsonFields.Required<string>(s, "reason", path))).ToList(),
        };
        manifest.Check(path);
        return manifest;
    }

    void Check(string path)
    {
        foreach (var e in Examples)
        {
            if (e.Split is not (CachedExampleInfo.TrainSplit or CachedExampleInfo.ValidationSplit))
                throw new QzoException($"{path}: example '{e.Source}' has split '{e.Split}' (train or validation)");
            if (e.Prompt < 0 || e.Prompt >= Captions.Count || e.Latent < 0)
                throw new QzoException($"{path}: example '{e.Source}' points at a caption or latent that does not exist");
        }
        if (new[] { LatentChannels, LatentHeight, LatentWidth, T5Tokens, JointDim, ClipLWidth, ClipGWidth, ClipLPooled, ClipGPooled }
            .Any(d => d <= 0))
            throw new QzoException($"{path}: a latent or embedding size is not positive");
    }

    static JsonArray Array(IEnumerable<JsonNode> items) => new(items.ToArray());

    static IEnumerable<JsonObject> Objects(JsonObject o, string key, string path) =>
        JsonFields.RequiredArray(o, key, path)
            .Select(n => n as JsonObject ?? throw new QzoException($"{path}: '{key}' holds a non-object"));

    static JsonObject DataJson(CacheDataInfo d) => new()
    {
        ["path"] = d.Path, ["root"] = d.Root, ["kind"] = d.Kind, ["fingerprint"] = d.Fingerprint,
        ["files"] = Array(d.Files.Select(f => f.ToJson())),
    };

    static CacheDataInfo DataFromJson(JsonObject o, string path) => new(
        JsonFields.Required<string>(o, "path", path), JsonFields.Required<string>(o, "root", path),
        JsonFields.Required<string>(o, "kind", path), JsonFields.Required<string>(o, "fingerprint", path),
        Objects(o, "files", path).Select(f => FileFingerprint.FromJson(f, path)).ToList());
}
