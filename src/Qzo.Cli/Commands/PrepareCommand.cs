using System.CommandLine;
using System.Diagnostics;
using Qzo.Diffusion.Data;
using Qzo.IO;

namespace Qzo.Cli.Commands;

/// <summary>`qzo prepare`: image–caption data → the cache that text-to-image fine-tuning reads (Diffusion/Data).</summary>
static class PrepareCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model")
            { Description = "A Stable Diffusion 3 / 3.5 pipeline folder (its VAE and text encoders make the cache)" +
                            HubArguments.ModelHelp };
        var revision = HubArguments.Revision();
        var images = new Option<string>("--images")
        {
            Description = "The image–caption data: a folder of images with metadata.jsonl (file_name + a caption column) or a .txt " +
                          "caption beside each image; or a Parquet file, or a folder of them, with image bytes and a caption column",
            Required = true,
        };
        var output = new Option<string>("--out") { Description = "The cache folder to write", Required = true };
        var batch = new Option<int>("--batch-size")
            { Description = "Images per VAE pass and captions per text-encoder pass", DefaultValueFactory = _ => 8 }
            .Range(v => v is >= 1 and <= 1024, "in [1, 1024]");
        var cache = new ImageCacheOptions();
        var device = CommonOptions.Device();
        var force = CommonOptions.Force();
        var command = new Command("prepare", """
            Cache image–caption data for text-to-image fine-tuning of an SD3 / SD3.5 pipeline: every image is decoded, resized
            (shorter side to --resolution, bilinear) and center-cropped, and the VAE's posterior (mean and std of the latents,
            so training can draw a new latent each step) is stored; every distinct caption's prompt embeddings (CLIP-L, CLIP-G,
            T5) are stored once. Each model is loaded once and released before the next. Images that cannot be decoded stop the
            command before any model is loaded, with a line naming the file or Parquet row (or --skip-bad-images). The cache
            (safetensors files and cache.json, written atomically) records the model and data files and the settings: run again
            with the same ones and nothing is done; with others it is refused unless --force rebuilds it.
            """)
        {
            model, revision, images, output, batch, device, force,
        };
        foreach (var option in cache.All) command.Options.Add(option);
        command.SetAction(r => CommandRunner.Run(() =>
        {
            var settings = cache.Settings(r);
            string data = r.GetValue(images)!, target = r.GetValue(output)!;
            string pipeline = HubArguments.Model(r.GetValue(model)!, r.GetValue(revision));
            string? validation = r.GetValue(cache.Validation);
            bool replace = r.GetValue(force);
            using var outputs = CommonOptions.Outputs();
            outputs.Input(pipeline, "the pipeline").Input(data, "the images").Input(validation, "the validation data");
            var plan = ImageCaptionCachePlan.Create(pipeline, data, validation, settings);
            if (ExistingCache(target, plan, replace) is { } upToDate)
            {
                Console.WriteLine($"{target} is up to date ({Counts(upToDate)}); nothing to do");
                return;
            }
            string folder = outputs.Folder(target, "--out", replace);
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!);
            var clock = Stopwatch.StartNew();
            var warnings = new List<string>();
            var manifest = ProgressDisplay.Run("preparing", report => ImageCaptionCacheBuilder.Build(
                plan, backend, folder, replace, r.GetValue(batch), p => report(p.Fraction, $"{p.Stage} {p.Done}/{p.Total}"), warnings.Add));
            foreach (var line in warnings) Console.Error.WriteLine($"warning: {line}");
            long bytes = Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length);
            string t5 = manifest.T5Stored ? $"T5 {manifest.T5Tokens} tokens" : "no T5 (zeros)";
            Console.WriteLine(
                $"wrote {target}: {Counts(manifest)}; latents {manifest.LatentChannels}×{manifest.LatentHeight}×{manifest.LatentWidth} " +
                $"(mean and std, F32), prompt embeddings {manifest.PromptTokens}×{manifest.JointDim} ({t5}, " +
                $"{manifest.EmbeddingDType.ToString().ToLowerInvariant()}); {ByteSize.Text(bytes)} in " +
                $"{clock.Elapsed.TotalSeconds:F1} s on {backend.Name}");
        }));
        return command;
    }

    /// <summary>
    /// The cache already in <paramref name="target"/> when it matches the plan and is complete (null when there is none, or
    /// --force rebuilds it); a cache of other settings, model or data is refused without --force, naming the difference.
    /// </summary>
    static ImageCaptionCacheManifest? ExistingCache(string target, ImageCaptionCachePlan plan, bool force)
    {
        if (!ImageCaptionCache.IsCache(target)) return null;
        ImageCaptionCacheManifest manifest;
        try { manifest = ImageCaptionCacheManifest.Read(target); }
        catch (QzoException) when (force) { return null; }
        string? stale = plan.Staleness(manifest);
        if (force) return null;
        if (stale is null)
        {
            using var complete = ImageCaptionCache.Open(target); // every tensor present with its shape
            return manifest;
        }
        throw new QzoException($"{target}: built with {stale}; pass --force to rebuild it");
    }

    static string Counts(ImageCaptionCacheManifest m)
    {
        int train = m.Examples.Count(e => e.Split == CachedExampleInfo.TrainSplit);
        int validation = m.Examples.Count - train;
        string flip = m.Settings.RandomFlip ? $" ({train / 2} images, each also mirrored)" : "";
        string skipped = m.Skipped.Count > 0 ? $", {m.Skipped.Count} bad image(s) skipped" : "";
        return $"{train} training examples{flip}, {validation} validation, {m.Captions.Count} distinct captions (the empty one " +
               $"included){skipped}";
    }
}
