using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Diffusion.Data;

/// <summary>
/// Everything that decides a cache's contents besides the model and the data files: a cache built with other settings
/// is stale (<see cref="ImageCaptionCachePlan.Staleness"/>). The batch size and the device are not among them.
/// </summary>
public sealed record ImageCaptionCacheSettings
{
    /// <summary>Images are resized (shorter side) and center-cropped to this square.</summary>
    public int Resolution { get; init; } = 512;
    /// <summary>Cache each training image twice, as drawn and mirrored (docs/diffusion-training.md, "Cache").</summary>
    public bool RandomFlip { get; init; }
    public ImageCaptionDataOptions Data { get; init; } = new();
    /// <summary>Held-out share when no validation data is given (the paper's 8:2 split).</summary>
    public double ValidationFraction { get; init; } = 0.2;
    public uint Seed { get; init; }
    /// <summary>T5 tokens per caption: 77 as both diffusers' SD3 training script and the official QZO code use.</summary>
    public int MaxSequenceLength { get; init; } = 77;
    public bool UseT5 { get; init; } = true;
    /// <summary>Leave undecodable images out (each named in a warning and in cache.json) instead of refusing the data.</summary>
    public bool SkipBadImages { get; init; }

    public JsonObject ToJson() => new()
    {
        ["resolution"] = Resolution, ["random_flip"] = RandomFlip, ["caption_column"] = Data.CaptionColumn,
        ["image_column"] = Data.ImageColumn, ["filters"] = new JsonArray(Data.Filters.Select(f => (JsonNode)f.ToString()).ToArray()),
        ["validation_fraction"] = ValidationFraction, ["seed"] = Seed, ["max_sequence_length"] = MaxSequenceLength,
        ["t5"] = UseT5, ["skip_bad_images"] = SkipBadImages,
    };

    public static ImageCaptionCacheSettings FromJson(JsonObject o, string where) => new()
    {
        Resolution = JsonFields.Required<int>(o, "resolution", where),
        RandomFlip = JsonFields.Required<bool>(o, "random_flip", where),
        Data = new ImageCaptionDataOptions
        {
            CaptionColumn = JsonFields.Required<string>(o, "caption_column", where),
            ImageColumn = JsonFields.Required<string>(o, "image_column", where),
            Filters = JsonFields.RequiredArray(o, "filters", where)
                .Select(f => ColumnFilter.Parse(f?.GetValue<string>() ?? throw new QzoException($"{where}: a null filter"))).ToList(),
        },
        ValidationFraction = JsonFields.Required<double>(o, "validation_fraction", where),
        Seed = JsonFields.Required<uint>(o, "seed", where),
        MaxSequenceLength = JsonFields.Required<int>(o, "max_sequence_length", where),
        UseT5 = JsonFields.Required<bool>(o, "t5", where),
        SkipBadImages = JsonFields.Required<bool>(o, "skip_bad_images", where),
    };

    /// <summary>The settings that differ, as "name: old → new" phrases (empty when equal).</summary>
    public IReadOnlyList<string> Differences(ImageCaptionCacheSettings other)
    {
        JsonObject a = ToJson(), b = other.ToJson();
        return a.Where(p => !JsonNode.DeepEquals(p.Value, b[p.Key]))
                .Select(p => $"{p.Key}: {p.Value?.ToJsonString()} → {b[p.Key]?.ToJsonString()}").ToList();
    }
}
