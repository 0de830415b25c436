using System.Text.Json.Nodes;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Data;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Vae;
using Qzo.Imaging;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Tests.Diffusion.Data;

/// <summary>A tiny SD3 pipeline, a styled-shapes image folder (plus one wide image) and a cache of them, built once.</summary>
public sealed class TinyImageCache : IDisposable
{
    readonly TempFolder _folder = new();
    public string Pipeline => _folder["sd3"];
    public string Images => _folder["shapes"];
    public string Cache => _folder["cache"];
    public const int Resolution = 32, MaxSequenceLength = 12;
    public static readonly ImageCaptionCacheSettings Settings = new()
        { Resolution = Resolution, RandomFlip = true, ValidationFraction = 0.2, Seed = 1, MaxSequenceLength = MaxSequenceLength };
    public ImageCaptionCacheManifest Manifest { get; }

    public TinyImageCache()
    {
        Sd3PipelineSynthesis.Write(Pipeline, new Sd3SynthOptions { Seed = 7 });
        Directory.CreateDirectory(Images);
        StyledShapes.WriteImageFolder(Images, 5, 40, seed: 2);
        var wide = ImageTransforms.Resize(StyledShapes.Render(9, 48).Image, 72, 40); // resized then cropped at its centre
        ImageFiles.WritePng(wide, Path.Combine(Images, "wide.png"));
        File.AppendAllText(Path.Combine(Images, "metadata.jsonl"),
            new JsonObject { ["file_name"] = "wide.png", ["text"] = "a wide picture in the qzo style" }.ToJsonString() + "\n");
        using var backend = new CpuBackend();
        var plan = ImageCaptionCachePlan.Create(Pipeline, Images, null, Settings);
        Manifest = ImageCaptionCacheBuilder.Build(plan, backend, Cache, overwrite: false, batchSize: 3);
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>The cache `qzo prepare` writes: round trip, equality with direct computation, staleness, bad images.</summary>
public sealed class ImageCaptionCacheTests(TinyImageCache tiny) : IClassFixture<TinyImageCache>
{
    [Fact]
    public void TheCacheReadsBackLazilyWithMirroredTrainingCopies()
    {
        using var cache = ImageCaptionCache.Open(tiny.Cache);
        Assert.Equal(2, cache.Validation.Count); // ⌈0.2 · 6⌉
        Assert.Equal(2 * 4, cache.Train.Count);
        Assert.Equal(DType.F32, cache.Manifest.EmbeddingDType); // the CPU computes in fp32
        Assert.Equal(["cache.json", "clip_g.safetensors", "clip_l.safetensors", "latents.safetensors", "t5.safetensors"],
                     Directory.GetFiles(tiny.Cache).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var first = cache.Train[0];
        var mirrored = cache.Train[1];
        Assert.Equal(first.Source + " (mirrored)", mirrored.Source);
        Assert.Equal(first.Caption, mirrored.Caption);
        Assert.Equal(first.PromptEmbeds, mirrored.PromptEmbeds);
        Assert.NotEqual(first.LatentMean, mirrored.LatentMean);
        Assert.Equal((16, 4, 4), (first.LatentChannels, first.LatentHeight, first.LatentWidth));
        Assert.Equal(16 * 4 * 4, first.LatentMean.Length);
        Assert.All(first.LatentStd, s => Assert.True(s > 0 && float.IsFinite(s)));
        Assert.Equal(77 + TinyImageCache.MaxSequenceLength, first.PromptTokens);
        Assert.Equal(96, first.JointDim);
        Assert.Equal(first.PromptTokens * 96, first.PromptEmbeds.Length);
        Assert.Equal(32 + 48, first.PooledEmbeds.Length);
        Assert.Equal(first.LatentMean, cache.Train[0].LatentMean); // read again from disk: the same
        Assert.Equal(cache.Train.Count, cache.Train.ToList().Count);
    }

    [Fact]
    public void CachedTensorsEqualTheVaeAndPromptEncoderRunDirectly()
    {
        using var cache = ImageCaptionCache.Open(tiny.Cache);
        var folder = Sd3PipelineFolder.Open(tiny.Pipeline);
        using var backend = new CpuBackend();
        var cases = new[] { (cache.Train[1], Info(cache, 1, "train")), (cache.Validation[0], Info(cache, 0, "validation")) };
        foreach (var (example, info) in cases)
        {
            var square = ImageTransforms.ForTraining(ImageFiles.Read(info.Source), TinyImageCache.Resolution, info.Mirrored);
            VaePosterior posterior;
            using (var vae = AutoencoderKL.Load(folder.Vae, backend))
            using (var pixels = HostFloats.Upload(backend, ImageTransforms.ToSigned(square), MemoryCategory.Activations))
                posterior = vae.Encode(vae.Context(), pixels, new ImageShape(1, 3, TinyImageCache.Resolution, TinyImageCache.Resolution));
            AssertClose(posterior.Mean, example.LatentMean, info.Source + " mean");
            AssertClose(Enumerable.Range(0, posterior.Mean.Length).Select(i => posterior.Std(i)).ToArray(), example.LatentStd,
                        info.Source + " std");

            var prompt = Sd3PromptEncoder.Encode(folder, backend, [example.Caption], TinyImageCache.MaxSequenceLength, useT5: true,
                                                 jointAttentionDim: 96);
            Assert.Equal(prompt.Tokens, example.PromptTokens);
            AssertClose(prompt.Context, example.PromptEmbeds, info.Source + " context");
            AssertClose(prompt.Pooled, example.PooledEmbeds, info.Source + " pooled");
        }
    }

    [Fact]
    public void TheEmptyPromptIsCachedAsThePipelineEncodesIt()
    {
        using var cache = ImageCaptionCache.Open(tiny.Cache);
        var empty = cache.EmptyPrompt ?? throw new Xunit.Sdk.XunitException("no empty prompt in the cache");
        Assert.Equal("", empty.Caption);
        Assert.Empty(empty.LatentMean);
        Assert.Equal(7, cache.Manifest.Captions.Count); // 6 image captions and the empty one
        using var backend = new CpuBackend();
        var direct = Sd3PromptEncoder.Encode(Sd3PipelineFolder.Open(tiny.Pipeline), backend, [""], TinyImageCache.MaxSequenceLength,
                                             useT5: true, jointAttentionDim: 96);
        Assert.Equal(direct.Tokens, empty.PromptTokens);
        AssertClose(direct.Context, empty.PromptEmbeds, "empty prompt context");
        AssertClose(direct.Pooled, empty.PooledEmbeds, "empty prompt pooled");
    }

    static CachedExampleInfo Info(ImageCaptionCache cache, int index, string split) =>
        cache.Manifest.Examples.Where(e => e.Split == split).ElementAt(index);

    static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs(v)), error = expected.Zip(actual, (e, a) => Math.Abs(e - (double)a)).Max();
        Assert.True(scale > 0, $"{what}: all zeros");
        Assert.True(error <= 1e-5 * scale, $"{what}: max |error| {error:E2} over max |value| {scale:E2}");
    }

    [Fact]
    public void WithoutT5TheContextEndsInZerosAsThePipelineGivesIt()
    {
        using var temp = new TempFolder();
        using var backend = new CpuBackend();
        var settings = TinyImageCache.Settings with { UseT5 = false, RandomFlip = false, ValidationFraction = 0 };
        var plan = ImageCaptionCachePlan.Create(tiny.Pipeline, tiny.Images, null, settings);
        ImageCaptionCacheBuilder.Build(plan, backend, temp["cache"], overwrite: false);
        Assert.False(File.Exists(Path.Combine(temp["cache"], ImageCaptionCacheManifest.T5File)));
        using var cache = ImageCaptionCache.Open(temp["cache"]);
        Assert.Equal(6, cache.Train.Count);
        Assert.Empty(cache.Validation);
        var example = cache.Train[5];
        var direct = Sd3PromptEncoder.Encode(Sd3PipelineFolder.Open(tiny.Pipeline), backend, [example.Caption],
                                             TinyImageCache.MaxSequenceLength, useT5: false, jointAttentionDim: 96);
        AssertClose(direct.Context, example.PromptEmbeds, "context");
        Assert.All(example.PromptEmbeds.AsSpan(77 * 96).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void OtherSettingsModelOrDataMakeTheCacheStale()
    {
        var manifest = ImageCaptionCacheManifest.Read(tiny.Cache);
        Assert.Null(ImageCaptionCachePlan.Create(tiny.Pipeline, tiny.Images, null, TinyImageCache.Settings).Staleness(manifest));
        var resolution = ImageCaptionCachePlan.Create(tiny.Pipeline, tiny.Images, null, TinyImageCache.Settings with { Resolution = 48 });
        Assert.Contains("resolution: 32 → 48", resolution.Staleness(manifest));

        using var temp = new TempFolder();
        Directory.CreateDirectory(temp["sd3"]);
        OutputFolder.CopyContents(tiny.Pipeline, temp["sd3"]);
        var copy = ImageCaptionCachePlan.Create(temp["sd3"], tiny.Images, null, TinyImageCache.Settings);
        Assert.Null(copy.Staleness(manifest)); // same contents elsewhere: recognised by hash
        using var cache = ImageCaptionCache.Open(tiny.Cache);
        cache.RequireModel(Sd3PipelineFolder.Open(temp["sd3"]));

        string weights = Path.Combine(temp["sd3"], "vae", "diffusion_pytorch_model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(weights, bytes);
        Assert.Contains("another model (vae/diffusion_pytorch_model.safetensors changed)", copy.Staleness(manifest));
        var e = Assert.Throws<QzoException>(() => cache.RequireModel(Sd3PipelineFolder.Open(temp["sd3"])));
        Assert.Contains("vae/diffusion_pytorch_model.safetensors changed", e.Message);

        Directory.CreateDirectory(temp["shapes"]);
        OutputFolder.CopyContents(tiny.Images, temp["shapes"]);
        File.AppendAllText(Path.Combine(temp["shapes"], "metadata.jsonl"), "\n");
        var data = ImageCaptionCachePlan.Create(tiny.Pipeline, temp["shapes"], null, TinyImageCache.Settings);
        Assert.Contains("other data", data.Staleness(manifest));
    }

    [Fact]
    public void ABadImageStopsTheBuildBeforeAnyModelWithOneLineOrIsSkippedWhenAsked()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp["shapes"]);
        OutputFolder.CopyContents(tiny.Images, temp["shapes"]);
        string broken = Path.Combine(temp["shapes"], "00003.png");
        File.WriteAllBytes(broken, File.ReadAllBytes(broken)[..60]);
        using var backend = new CpuBackend();
        var settings = TinyImageCache.Settings with { ValidationFraction = 0 };
        var plan = ImageCaptionCachePlan.Create(tiny.Pipeline, temp["shapes"], null, settings);
        var e = Assert.Throws<QzoException>(() => ImageCaptionCacheBuilder.Build(plan, backend, temp["cache"], overwrite: false));
        Assert.StartsWith(broken + ": ", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.False(Directory.Exists(temp["cache"]));
        Assert.Single(Directory.GetDirectories(temp.Path)); // nothing half-written beside it

        var warnings = new List<string>();
        var skipping = ImageCaptionCachePlan.Create(tiny.Pipeline, temp["shapes"], null, settings with { SkipBadImages = true });
        var manifest = ImageCaptionCacheBuilder.Build(skipping, backend, temp["cache"], overwrite: false, warn: warnings.Add);
        Assert.Equal(broken, Assert.Single(manifest.Skipped).Source);
        Assert.Contains(broken, Assert.Single(warnings));
        Assert.Equal(2 * 5, manifest.Examples.Count);
        Assert.DoesNotContain(manifest.Examples, x => x.Source == broken);
    }

    [Fact]
    public void AnIncompleteCacheIsRefusedByName()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp["cache"]);
        OutputFolder.CopyContents(tiny.Cache, temp["cache"]);
        File.Delete(Path.Combine(temp["cache"], "t5.safetensors"));
        var e = Assert.Throws<QzoException>(() => ImageCaptionCache.Open(temp["cache"]));
        Assert.Contains("t5.safetensors is missing", e.Message);
        var none = Assert.Throws<QzoException>(() => ImageCaptionCache.Open(tiny.Images));
        Assert.Contains("no cache.json", none.Message);
    }

    [Fact]
    public void SixteenBitEmbeddingsAreStoredAsComputedAndReadBackAsFp32()
    {
        using var temp = new TempFolder();
        var values = Enumerable.Range(0, 5).Select(i => new[] { new[] { i + 0.1f, -i / 3f } }).ToArray();
        int batches = 0;
        BatchedTensorFile.Write(temp["x.safetensors"], 5, 2, [new TensorPart("hidden", DType.BF16, [2])], (start, count) =>
        {
            batches++;
            return values[start..(start + count)];
        });
        Assert.Equal(3, batches);
        using var file = SafetensorsFile.Open(temp["x.safetensors"]);
        for (int i = 0; i < 5; i++)
        {
            var read = file.ReadFloat32(ImageCaptionCacheManifest.TensorName(i, "hidden"));
            Assert.Equal(values[i][0].Select(v => BFloat16.ToSingle(BFloat16.FromSingle(v))), read);
        }
    }
}
