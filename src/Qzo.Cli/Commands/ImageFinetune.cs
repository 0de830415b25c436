using System.CommandLine;
using System.Text.Json.Nodes;
using Qzo.Cli.Runs;
using Qzo.Diffusion.Data;
using Qzo.Diffusion.Pipelines;
using Qzo.IO;

namespace Qzo.Cli.Commands;

/// <summary>
/// `qzo finetune PIPELINE --images CACHE --run RUN`: QZO on an NF4 SD3 transformer's scales over an image–caption cache
/// that `qzo prepare` wrote (docs/diffusion-training.md). Caching is a separate, explicit step: it loads every encoder
/// and the VAE in turn, which training then never holds.
/// </summary>
static class ImageFinetune
{
    public static void Start(ParseResult r, string model, string images, string? runOption, Sd3FinetuneOptions sd3, Sd3OptimizerFlags flags,
                             bool force, string? jsonPath, OutputPlan outputs)
    {
        if (!ImageCaptionCache.IsCache(images))
            throw new QzoException($"{images}: not an image–caption cache (no {ImageCaptionCacheManifest.FileName}); make one with " +
                                   $"`qzo prepare {model} --images {images} --out CACHE` and pass --images CACHE");
        var settings = sd3.Resolve(r, flags);
        using var cache = ImageCaptionCache.Open(images);
        cache.RequireModel(Sd3PipelineFolder.Open(model));
        outputs.Input(model, "the model").Input(images, "the image cache");
        string run = outputs.WorkFolder(runOption ?? throw new QzoException("--images needs --run (the run folder)"), "--run", force,
                                        hint: $", or --resume {runOption} to go on with it");
        using var backend = CommonOptions.CreateBackend(settings.Device);
        var data = new JsonObject { ["cache"] = Path.GetFullPath(images) };
        Write(jsonPath, Sd3FinetuneJob.Start(model, cache.Train, cache.Validation, settings, run, backend, data, cache.EmptyPrompt));
    }

    public static void Resume(string runFolder, bool force, string? jsonPath, OutputPlan outputs)
    {
        var (model, settings, data) = Sd3FinetuneJob.ReadSettings(runFolder);
        string images = (string?)data?["cache"] ?? throw new QzoException($"{runFolder}: config.json names no image cache to resume with");
        outputs.Input(model, "the model").Input(images, "the image cache");
        string run = outputs.WorkFolder(runFolder, "--resume", force: false, resume: true);
        using var cache = ImageCaptionCache.Open(images);
        cache.RequireModel(Sd3PipelineFolder.Open(model));
        using var backend = CommonOptions.CreateBackend(settings.Device);
        Write(jsonPath, Sd3FinetuneJob.Resume(run, cache.Train, cache.Validation, backend, restart: force, cache.EmptyPrompt));
    }

    static void Write(string? path, JsonObject json)
    {
        if (path is not null) AtomicFile.WriteAllText(path, json.ToJsonString(new() { WriteIndented = true }) + "\n");
    }
}
