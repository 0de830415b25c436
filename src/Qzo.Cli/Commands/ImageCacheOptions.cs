using System.CommandLine;
using Qzo.Diffusion.Data;

namespace Qzo.Cli.Commands;

/// <summary>
/// The options that say how image–caption data becomes a cache (Diffusion/Data/ImageCaptionCacheSettings): `qzo prepare`
/// takes them, and a verb that prepares a cache on the fly can add the same group.
/// </summary>
sealed class ImageCacheOptions
{
    static readonly ImageCaptionCacheSettings Defaults = new();

    public Option<string?> Validation { get; } = new("--validation")
    {
        Description = "Held-out image–caption data (same forms as --images); without it --validation-fraction of --images is held out",
    };
    public Option<double> ValidationFraction { get; } = new Option<double>("--validation-fraction")
    {
        Description = "Share of --images held out for validation loss, chosen by --seed (the paper's split is 8:2)",
        DefaultValueFactory = _ => Defaults.ValidationFraction,
    }.Range(v => v >= 0 && v < 1, "in [0, 1)");
    public Option<uint> Seed { get; } = new("--seed") { Description = "Seed of the train/validation split", DefaultValueFactory = _ => 0u };
    public Option<int> Resolution { get; } = new Option<int>("--resolution")
    {
        Description = "Images are resized (shorter side, bilinear) and center-cropped to this square; a multiple of 16 for SD3",
        DefaultValueFactory = _ => Defaults.Resolution,
    }.Range(v => v is >= 16 and <= 4096, "in [16, 4096]");
    public Option<string> CaptionColumn { get; } = new("--caption-column")
    {
        Description = "Column of metadata.jsonl or of the Parquet files that holds the caption (rezashkv/styles: caption)",
        DefaultValueFactory = _ => Defaults.Data.CaptionColumn,
    };
    public Option<string> ImageColumn { get; } = new("--image-column")
    {
        Description = "Parquet column with the image: a struct {bytes, path} as Hugging Face datasets writes, or binary",
        DefaultValueFactory = _ => Defaults.Data.ImageColumn,
    };
    public Option<string[]> Filter { get; } = new("--filter")
    {
        Description = "Keep only rows whose COLUMN equals VALUE, e.g. --filter style=tarot (repeat: all must match)",
    };
    public Option<bool> RandomFlip { get; } = new("--random-flip")
    {
        Description = "Also cache each training image mirrored left to right (training then sees both, like a random flip)",
    };
    public Option<int> MaxSequenceLength { get; } = new Option<int>("--max-sequence-length")
    {
        Description = "T5 tokens per caption (77: diffusers' SD3 training script and the official QZO code; the pipeline draws with 256)",
        DefaultValueFactory = _ => Defaults.MaxSequenceLength,
    }.Range(v => v is >= 1 and <= 512, "in [1, 512]");
    public Option<bool> NoT5 { get; } = new("--no-t5")
        { Description = "Skip the T5 encoder: its part of the context is zeros, as SD3 allows (much less time and disk)" };
    public Option<bool> SkipBadImages { get; } = new("--skip-bad-images")
        { Description = "Leave out images that cannot be read or decoded, each named in a warning and in cache.json (default: stop)" };

    public IEnumerable<Option> All =>
        [Validation, ValidationFraction, Seed, Resolution, CaptionColumn, ImageColumn, Filter, RandomFlip, MaxSequenceLength, NoT5,
         SkipBadImages];

    /// <summary>The settings given; --validation and an explicit --validation-fraction together are refused.</summary>
    public ImageCaptionCacheSettings Settings(ParseResult r)
    {
        if (r.GetValue(Validation) is not null && r.GetResult(ValidationFraction) is { Implicit: false })
            throw new QzoException("give --validation (held-out data) or --validation-fraction (a share of --images), not both");
        return new ImageCaptionCacheSettings
        {
            Resolution = r.GetValue(Resolution), RandomFlip = r.GetValue(RandomFlip),
            Data = new ImageCaptionDataOptions
            {
                CaptionColumn = r.GetValue(CaptionColumn)!, ImageColumn = r.GetValue(ImageColumn)!,
                Filters = (r.GetValue(Filter) ?? []).Select(ColumnFilter.Parse).ToList(),
            },
            ValidationFraction = r.GetValue(Validation) is null ? r.GetValue(ValidationFraction) : 0,
            Seed = r.GetValue(Seed), MaxSequenceLength = r.GetValue(MaxSequenceLength), UseT5 = !r.GetValue(NoT5),
            SkipBadImages = r.GetValue(SkipBadImages),
        };
    }
}
