using Qzo.Compute;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Vae;
using Qzo.Encoders.Clip;
using Qzo.Encoders.T5;
using Qzo.Imaging;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Text;

namespace Qzo.Diffusion.Data;

/// <summary>
/// Builds an image–caption cache (docs/diffusion-training.md, "Cache") from a plan: checks every image, fingerprints the
/// model and data files, then runs the VAE over every training copy and validation image, and each text encoder over
/// every distinct caption, in batches, each model loaded once and released before the next (as Sd3Pipeline does), so the
/// device holds one of them at a time. Everything is written into a temporary folder renamed into place at the end.
/// </summary>
public static class ImageCaptionCacheBuilder
{
    /// <param name="warn">receives a line per image left out by --skip-bad-images.</param>
    public static ImageCaptionCacheManifest Build(ImageCaptionCachePlan plan, IBackend backend, string target, bool overwrite,
                                                  int batchSize = 8, Action<CacheProgress>? progress = null,
                                                  Action<string>? warn = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var s = plan.Settings;
        var entries = plan.Split.Train.Concat(plan.Split.Validation).ToList();
        var weights = new StageWeights(entries.Count, plan, progress);

        var bad = ImageChecks.FindBad(entries, n => weights.Report("checking images", n, entries.Count));
        var skipped = entries.Where(bad.ContainsKey).Select(e => new SkippedImage(e.Source, bad[e])).ToList();
        if (skipped.Count > 0 && !s.SkipBadImages)
            throw new QzoException(skipped[0].Reason + (skipped.Count > 1
                ? $" (and {skipped.Count - 1} more bad image(s); --skip-bad-images leaves them out with a warning each)"
                : " (--skip-bad-images leaves bad images out with a warning)"));
        foreach (var x in skipped) warn?.Invoke($"skipped {x.Reason}");
        var train = plan.Split.Train.Where(e => !bad.ContainsKey(e)).ToList();
        var validation = plan.Split.Validation.Where(e => !bad.ContainsKey(e)).ToList();
        if (train.Count == 0) throw new QzoException($"{plan.Data.Path}: no training image left after skipping {skipped.Count} bad one(s)");

        var (examples, copies, captions) = Examples(train, validation, s.RandomFlip);
        // The empty caption is the negative prompt of guided sample grids (the SD3 pipeline encodes "" for it).
        if (!captions.Contains("")) captions.Add("");
        var modelFiles = FileFingerprint.TakeAll(plan.Pipeline.Root, plan.ModelFiles,
                                                 n => weights.Report("fingerprinting", n, plan.ModelFiles.Count));
        var embeddingType = backend.ComputeType is DType.BF16 or DType.F16 ? backend.ComputeType : DType.F32;
        int side = s.Resolution / plan.Vae.DownscaleFactor;
        var data = DataInfo(plan.Data);
        var validationData = plan.ValidationData is { } held ? DataInfo(held) : null;

        ImageCaptionCacheManifest? manifest = null;
        OutputFolder.Write(target, overwrite, staging =>
        {
            WriteLatents(Path.Combine(staging, ImageCaptionCacheManifest.LatentsFile), plan, backend, copies, batchSize,
                         n => weights.Report("VAE", n, copies.Count));
            var clipL = WriteClip(Path.Combine(staging, ImageCaptionCacheManifest.ClipLFile), plan.Pipeline.TextEncoder,
                                  plan.Pipeline.Tokenizer, backend, captions, embeddingType, batchSize,
                                  n => weights.Report("CLIP-L", n, captions.Count));
            var clipG = WriteClip(Path.Combine(staging, ImageCaptionCacheManifest.ClipGFile), plan.Pipeline.TextEncoder2,
                                  plan.Pipeline.Tokenizer2, backend, captions, embeddingType, batchSize,
                                  n => weights.Report("CLIP-G", n, captions.Count));
            if (plan.RunsT5)
                WriteT5(Path.Combine(staging, ImageCaptionCacheManifest.T5File), plan, backend, captions, embeddingType, batchSize,
                        n => weights.Report("T5", n, captions.Count));
            manifest = new ImageCaptionCacheManifest
            {
                ModelPath = Path.GetFullPath(plan.Pipeline.Root), ModelFingerprint = FileFingerprint.Combined(modelFiles),
                ModelFiles = modelFiles, Data = data, ValidationData = validationData,
                Settings = s, Device = backend.Name, EmbeddingDType = embeddingType,
                LatentChannels = plan.Vae.LatentChannels, LatentHeight = side, LatentWidth = side,
                T5Tokens = s.MaxSequenceLength, T5Stored = plan.RunsT5, JointDim = plan.Transformer.JointAttentionDim,
                ClipLWidth = clipL.Width, ClipGWidth = clipG.Width, ClipLPooled = clipL.Pooled, ClipGPooled = clipG.Pooled,
                Captions = captions, Examples = examples, Skipped = skipped,
            };
            if (clipL.Pooled + clipG.Pooled != plan.Transformer.PooledProjectionDim)
                throw new QzoException($"{plan.Pipeline.Root}: the CLIP projections ({clipL.Pooled} + {clipG.Pooled}) ≠ the " +
                                       $"transformer's pooled_projection_dim {plan.Transformer.PooledProjectionDim}");
            File.WriteAllText(Path.Combine(staging, ImageCaptionCacheManifest.FileName),
                              manifest.ToJson().ToJsonString(Json.Indented) + "\n");
        });
        return manifest!;
    }

    /// <summary>The examples (train copies first, then validation), the image copies to encode and the distinct captions.</summary>
    static (List<CachedExampleInfo>, List<(ImageCaptionEntry Entry, bool Mirrored)>, List<string>) Examples(
        List<ImageCaptionEntry> train, List<ImageCaptionEntry> validation, bool randomFlip)
    {
        var examples = new List<CachedExampleInfo>();
        var copies = new List<(ImageCaptionEntry, bool)>();
        var captions = new List<string>();
        var captionIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        void Add(ImageCaptionEntry e, string split, bool mirrored)
        {
            if (!captionIndex.TryGetValue(e.Caption, out int prompt))
            {
                captionIndex[e.Caption] = prompt = captions.Count;
                captions.Add(e.Caption);
            }
            copies.Add((e, mirrored));
            examples.Add(new CachedExampleInfo(e.Source, e.Caption, split, mirrored, copies.Count - 1, prompt));
        }
        foreach (var e in train)
        {
            Add(e, CachedExampleInfo.TrainSplit, false);
            if (randomFlip) Add(e, CachedExampleInfo.TrainSplit, true);
        }
        foreach (var e in validation) Add(e, CachedExampleInfo.ValidationSplit, false);
        return (examples, copies, captions);
    }

    static void WriteLatents(string path, ImageCaptionCachePlan plan, IBackend backend,
                             List<(ImageCaptionEntry Entry, bool Mirrored)> copies, int batchSize, Action<int> done)
    {
        int r = plan.Settings.Resolution, side = r / plan.Vae.DownscaleFactor, channels = plan.Vae.LatentChannels;
        long[] shape = [channels, side, side];
        using var vae = AutoencoderKL.Load(plan.Pipeline.Vae, backend);
        using var images = new ImageBytesReader();
        var context = vae.Context();
        BatchedTensorFile.Write(path, copies.Count, batchSize, [new("mean", DType.F32, shape), new("std", DType.F32, shape)],
            (start, count) =>
            {
                var batch = copies.GetRange(start, count);
                var pixels = TrainingPixels(batch, images, r);
                VaePosterior posterior;
                using (var input = HostFloats.Upload(backend, pixels, MemoryCategory.Activations))
                    posterior = vae.Encode(context, input, new ImageShape(count, 3, r, r));
                long each = (long)channels * side * side;
                return Enumerable.Range(0, count).Select(k =>
                {
                    var mean = posterior.Mean.AsSpan((int)(k * each), (int)each).ToArray();
                    var std = new float[each];
                    for (long i = 0; i < each; i++) std[i] = posterior.Std(k * each + i);
                    return new[] { mean, std };
                }).ToArray();
            }, done);
    }

    /// <summary>The batch's images resized, cropped, mirrored where asked and mapped to [−1, 1]: [count, 3, r, r].</summary>
    static float[] TrainingPixels(List<(ImageCaptionEntry Entry, bool Mirrored)> batch, ImageBytesReader images, int r)
    {
        var distinct = batch.Select(c => c.Entry).Distinct().ToList();
        var bytes = distinct.Select(images.Read).ToList();
        var squares = new RgbImage[distinct.Count];
        Parallel.For(0, distinct.Count, i =>
            squares[i] = ImageTransforms.ForTraining(ImageFiles.Decode(bytes[i], distinct[i].Source), r, mirrored: false));
        long each = 3L * r * r;
        var pixels = new float[batch.Count * each];
        Parallel.For(0, batch.Count, k =>
        {
            var square = squares[distinct.IndexOf(batch[k].Entry)];
            if (batch[k].Mirrored) square = ImageTransforms.MirrorHorizontally(square);
            ImageTransforms.ToSigned(square).CopyTo(pixels, k * each);
        });
        return pixels;
    }

    static (int Width, int Pooled) WriteClip(string path, string encoder, string tokenizerFolder, IBackend backend, List<string> captions,
                                             DType dtype, int batchSize, Action<int> done)
    {
        using var model = ClipTextLoader.Load(encoder, backend);
        var tokenizer = Tokenizer.Load(tokenizerFolder);
        int width = model.Config.HiddenSize, pooled = model.Config.ProjectionDim, tokens = Sd3PromptEncoder.ClipTokens;
        BatchedTensorFile.Write(path, captions.Count, batchSize,
            [new("hidden", dtype, [tokens, width]), new("pooled", dtype, [pooled])],
            (start, count) =>
            {
                var o = Sd3PromptEncoder.RunClip(model, tokenizer, captions.GetRange(start, count), encoder);
                if (o.PooledWidth != pooled) throw new QzoException($"{encoder}: text_embeds are {o.PooledWidth} wide, not {pooled}");
                return Enumerable.Range(0, count).Select(k => new[]
                {
                    o.Hidden.AsSpan(k * tokens * width, tokens * width).ToArray(), o.Pooled.AsSpan(k * pooled, pooled).ToArray(),
                }).ToArray();
            }, done);
        return (width, pooled);
    }

    static void WriteT5(string path, ImageCaptionCachePlan plan, IBackend backend, List<string> captions, DType dtype, int batchSize,
                        Action<int> done)
    {
        using var model = T5EncoderLoader.Load(plan.Pipeline.TextEncoder3!, backend);
        var tokenizer = Tokenizer.Load(plan.Pipeline.Tokenizer3!);
        int length = plan.Settings.MaxSequenceLength, width = model.Config.DModel;
        if (width != plan.Transformer.JointAttentionDim)
            throw new QzoException($"{plan.Pipeline.TextEncoder3}: T5's width {width} ≠ the transformer's joint_attention_dim " +
                                   $"{plan.Transformer.JointAttentionDim}");
        BatchedTensorFile.Write(path, captions.Count, batchSize, [new("hidden", dtype, [length, width])],
            (start, count) =>
            {
                var hidden = Sd3PromptEncoder.RunT5(model, tokenizer, captions.GetRange(start, count), length);
                return Enumerable.Range(0, count).Select(k => new[] { hidden.AsSpan(k * length * width, length * width).ToArray() })
                    .ToArray();
            }, done);
    }

    static CacheDataInfo DataInfo(ImageCaptionDataset d)
    {
        var files = FileFingerprint.TakeAll(d.Root, d.Files);
        return new CacheDataInfo(d.Path, Path.GetFullPath(d.Root), d.Kind, FileFingerprint.Combined(files), files);
    }

    /// <summary>Turns each stage's progress into a fraction of the whole build, weighting stages by their rough cost per item.</summary>
    sealed class StageWeights(int images, ImageCaptionCachePlan plan, Action<CacheProgress>? progress)
    {
        readonly (string Stage, double Weight)[] _stages =
        [
            ("checking images", images * 0.5), ("fingerprinting", plan.ModelFiles.Count * 0.5),
            ("VAE", images * (plan.Settings.RandomFlip ? 2 : 1) * 8.0), ("CLIP-L", images * 0.5), ("CLIP-G", images * 1.0),
            ("T5", plan.RunsT5 ? images * 3.0 : 0),
        ];

        public void Report(string stage, long done, long total)
        {
            if (progress is null) return;
            double before = 0, all = _stages.Sum(x => x.Weight);
            foreach (var (name, weight) in _stages)
            {
                if (name == stage)
                {
                    progress(new CacheProgress(stage, done, total, (before + weight * done / Math.Max(total, 1)) / all));
                    return;
                }
                before += weight;
            }
        }
    }
}
