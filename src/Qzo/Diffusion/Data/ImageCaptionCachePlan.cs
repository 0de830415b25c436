using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.IO;

namespace Qzo.Diffusion.Data;

/// <summary>
/// What a cache of <paramref name="Pipeline"/> over <paramref name="Data"/> will hold, decided before any model is
/// loaded: the data read and split, the settings checked against the pipeline (the resolution must be a multiple of
/// the VAE's factor × the transformer's patch size), and the model files whose contents the cache depends on (the VAE,
/// the text encoders and tokenizers it runs, and the transformer's config.json for its widths; not the transformer's
/// weights, so a fine-tuned transformer reuses the cache).
/// </summary>
public sealed record ImageCaptionCachePlan(Sd3PipelineFolder Pipeline, ImageCaptionDataset Data, ImageCaptionDataset? ValidationData,
                                          ImageCaptionSplit Split, ImageCaptionCacheSettings Settings, VaeConfig Vae,
                                          Sd3TransformerConfig Transformer, IReadOnlyList<string> ModelFiles)
{
    /// <param name="validationData">Held-out data; null splits <paramref name="data"/> by the settings' fraction.</param>
    public static ImageCaptionCachePlan Create(string pipeline, string data, string? validationData, ImageCaptionCacheSettings settings)
    {
        var folder = Sd3PipelineFolder.Open(pipeline);
        var vae = VaeConfig.Load(Path.Combine(folder.Vae, "config.json"));
        var transformer = Sd3TransformerConfig.Load(Path.Combine(folder.Transformer, "config.json"));
        int multiple = vae.DownscaleFactor * transformer.PatchSize;
        if (settings.Resolution <= 0 || settings.Resolution % multiple != 0)
            throw new QzoException($"--resolution {settings.Resolution} must be a positive multiple of {multiple} (the VAE's factor " +
                                   $"{vae.DownscaleFactor} × the transformer's patch size {transformer.PatchSize})");
        if (settings.MaxSequenceLength is < 1 or > 512)
            throw new QzoException($"--max-sequence-length {settings.MaxSequenceLength} must be in [1, 512]");
        if (vae.InChannels != 3) throw new QzoException($"{folder.Vae}: the VAE reads {vae.InChannels} channels; images have 3");

        var train = ImageCaptionDataset.Read(data, settings.Data);
        ImageCaptionDataset? validation = null;
        ImageCaptionSplit split;
        if (validationData is not null)
        {
            validation = ImageCaptionDataset.Read(validationData, settings.Data);
            split = new ImageCaptionSplit(train.Entries, validation.Entries);
        }
        else split = ImageCaptionSplit.ByFraction(train.Entries, settings.ValidationFraction, settings.Seed);
        return new ImageCaptionCachePlan(folder, train, validation, split, settings, vae, transformer, RelevantFiles(folder, settings));
    }

    /// <summary>Whether T5 runs: asked for and present in the pipeline (a pipeline without T5 gives zeros, as SD3 allows).</summary>
    public bool RunsT5 => Settings.UseT5 && Pipeline.TextEncoder3 is not null;

    /// <summary>
    /// Why the cache described by <paramref name="cache"/> does not match this plan (other settings, model or data files), as one
    /// phrase; null when it does. Unchanged files are recognised by size and time, moved ones by content.
    /// </summary>
    public string? Staleness(ImageCaptionCacheManifest cache)
    {
        var settings = cache.Settings.Differences(Settings);
        if (settings.Count > 0) return $"other settings ({string.Join("; ", settings)})";
        if (FileFingerprint.Changed(cache.ModelFiles, Pipeline.Root, ModelFiles) is { } model) return $"another model ({model})";
        if (DataChange(cache.Data, Data, "data") is { } data) return data;
        if ((cache.ValidationData is null) != (ValidationData is null)) return "another validation set";
        if (ValidationData is not null && DataChange(cache.ValidationData!, ValidationData, "validation data") is { } held) return held;
        return null;
    }

    static string? DataChange(CacheDataInfo cached, ImageCaptionDataset now, string what)
    {
        if (Path.GetFullPath(cached.Root) != Path.GetFullPath(now.Root)) return $"other {what} ({cached.Root} → {now.Root})";
        return FileFingerprint.Changed(cached.Files, now.Root, now.Files) is { } change ? $"other {what} ({change})" : null;
    }

    /// <summary>The files a cache depends on, relative to the pipeline's root.</summary>
    public static IReadOnlyList<string> RelevantFiles(Sd3PipelineFolder folder, ImageCaptionCacheSettings settings)
    {
        var folders = new List<string> { folder.Vae, folder.TextEncoder, folder.Tokenizer, folder.TextEncoder2, folder.Tokenizer2 };
        if (settings.UseT5 && folder.TextEncoder3 is not null) folders.AddRange([folder.TextEncoder3, folder.Tokenizer3!]);
        return folders.SelectMany(f => Directory.EnumerateFiles(f, "*", SearchOption.AllDirectories))
            .Append(Path.Combine(folder.Transformer, "config.json"))
            .Select(f => Path.GetRelativePath(folder.Root, f).Replace('\\', '/'))
            .Distinct().Order(StringComparer.Ordinal).ToList();
    }
}
