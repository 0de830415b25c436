using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Training;
using Qzo.IO;

namespace Qzo.Diffusion.Data;

/// <summary>
/// An image–caption cache that `qzo prepare` (<see cref="ImageCaptionCacheBuilder"/>) wrote, opened for training:
/// <see cref="Train"/> and <see cref="Validation"/> read each <see cref="CachedImageCaption"/> from the memory-mapped
/// safetensors files when it is indexed, so only the examples of the batch in hand are in memory. Reading is thread-safe.
/// Dispose closes the files (records already read stay valid).
/// </summary>
public sealed class ImageCaptionCache : IDisposable
{
    readonly List<SafetensorsFile> _files = [];

    ImageCaptionCache(string folder, ImageCaptionCacheManifest manifest)
    {
        Folder = folder;
        Manifest = manifest;
        try
        {
            var latents = OpenFile(ImageCaptionCacheManifest.LatentsFile);
            var clipL = OpenFile(ImageCaptionCacheManifest.ClipLFile);
            var clipG = OpenFile(ImageCaptionCacheManifest.ClipGFile);
            var t5 = manifest.T5Stored ? OpenFile(ImageCaptionCacheManifest.T5File) : null;
            var tensors = new CachedTensors(manifest, latents, clipL, clipG, t5);
            tensors.CheckPresent();
            Train = new CachedExampleList(tensors, Split(manifest, CachedExampleInfo.TrainSplit));
            Validation = new CachedExampleList(tensors, Split(manifest, CachedExampleInfo.ValidationSplit));
            int empty = manifest.Captions.ToList().IndexOf("");
            EmptyPrompt = empty < 0 ? null : tensors.ReadPrompt(empty);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Folder { get; }
    public ImageCaptionCacheManifest Manifest { get; }
    /// <summary>The training examples; with --random-flip each image twice in a row, as drawn and mirrored.</summary>
    public IReadOnlyList<CachedImageCaption> Train { get; }
    public IReadOnlyList<CachedImageCaption> Validation { get; }
    /// <summary>
    /// The empty caption's embeddings (no image), the negative prompt of guided sample grids; null in a cache written before
    /// `qzo prepare` stored it.
    /// </summary>
    public CachedImageCaption? EmptyPrompt { get; }

    /// <summary>Whether <paramref name="folder"/> holds a cache (its cache.json), as opposed to image–caption data.</summary>
    public static bool IsCache(string folder) => File.Exists(Path.Combine(folder, ImageCaptionCacheManifest.FileName));

    /// <summary>Opens a cache; a missing, damaged or incomplete one is one line naming what is wrong.</summary>
    public static ImageCaptionCache Open(string folder)
    {
        if (!Directory.Exists(folder)) throw new QzoException($"{folder}: cache folder not found");
        return new ImageCaptionCache(folder, ImageCaptionCacheManifest.Read(folder));
    }

    /// <summary>
    /// Refuses a cache that <paramref name="pipeline"/> cannot train on: built with other VAE or text-encoder files
    /// (compared by content; unchanged files by size and time), or for another transformer's widths.
    /// </summary>
    public void RequireModel(Sd3PipelineFolder pipeline)
    {
        var t = Sd3TransformerConfig.Load(Path.Combine(pipeline.Transformer, "config.json"));
        var m = Manifest;
        if (t.JointAttentionDim != m.JointDim || t.PooledProjectionDim != m.PooledDim || t.InChannels != m.LatentChannels)
            throw new QzoException(
                $"{Folder}: cached for joint_attention_dim {m.JointDim}, pooled {m.PooledDim}, {m.LatentChannels} latent channels; " +
                $"{pipeline.Transformer} has {t.JointAttentionDim}, {t.PooledProjectionDim}, {t.InChannels} (prepare it again)");
        var files = ImageCaptionCachePlan.RelevantFiles(pipeline, m.Settings);
        if (FileFingerprint.Changed(m.ModelFiles, pipeline.Root, files) is { } change)
            throw new QzoException($"{Folder}: built from other VAE or text encoders than {pipeline.Root} ({change}); run " +
                                   "`qzo prepare` again");
    }

    static List<CachedExampleInfo> Split(ImageCaptionCacheManifest manifest, string split) =>
        manifest.Examples.Where(e => e.Split == split).ToList();

    SafetensorsFile OpenFile(string name)
    {
        string path = Path.Combine(Folder, name);
        if (!File.Exists(path)) throw new QzoException($"{Folder}: {name} is missing (an incomplete cache; prepare it again)");
        var file = SafetensorsFile.Open(path);
        _files.Add(file);
        return file;
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
