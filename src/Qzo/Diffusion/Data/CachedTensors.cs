using System.Collections;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Training;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Diffusion.Data;

/// <summary>The open tensor files of a cache, and the assembly of one <see cref="CachedImageCaption"/> from them.</summary>
sealed class CachedTensors(ImageCaptionCacheManifest manifest, SafetensorsFile latents, SafetensorsFile clipL, SafetensorsFile clipG,
                           SafetensorsFile? t5)
{
    /// <summary>Checks that every tensor an example reads exists with its shape, so reading later cannot fail halfway.</summary>
    public void CheckPresent()
    {
        var m = manifest;
        long[] latent = [m.LatentChannels, m.LatentHeight, m.LatentWidth];
        for (int i = 0; i < m.LatentCount; i++)
        {
            Require(latents, ImageCaptionCacheManifest.TensorName(i, "mean"), latent);
            Require(latents, ImageCaptionCacheManifest.TensorName(i, "std"), latent);
        }
        for (int p = 0; p < m.Captions.Count; p++)
        {
            Require(clipL, ImageCaptionCacheManifest.TensorName(p, "hidden"), [Sd3PromptEncoder.ClipTokens, m.ClipLWidth]);
            Require(clipL, ImageCaptionCacheManifest.TensorName(p, "pooled"), [m.ClipLPooled]);
            Require(clipG, ImageCaptionCacheManifest.TensorName(p, "hidden"), [Sd3PromptEncoder.ClipTokens, m.ClipGWidth]);
            Require(clipG, ImageCaptionCacheManifest.TensorName(p, "pooled"), [m.ClipGPooled]);
            if (t5 is not null) Require(t5, ImageCaptionCacheManifest.TensorName(p, "hidden"), [m.T5Tokens, m.JointDim]);
        }
    }

    public CachedImageCaption Read(CachedExampleInfo e)
    {
        var m = manifest;
        string latent = ImageCaptionCacheManifest.TensorName(e.Latent, ""), prompt = ImageCaptionCacheManifest.TensorName(e.Prompt, "");
        var embeddings = Embeddings(prompt);
        return new CachedImageCaption(e.Mirrored ? $"{e.Source} (mirrored)" : e.Source, e.Caption, m.LatentChannels, m.LatentHeight,
                                      m.LatentWidth, latents.ReadFloat32(latent + "mean"), latents.ReadFloat32(latent + "std"),
                                      embeddings.Tokens, embeddings.Width, embeddings.Context, embeddings.Pooled);
    }

    /// <summary>A caption's embeddings alone (no image): the negative prompt of guided samples.</summary>
    public CachedImageCaption ReadPrompt(int prompt)
    {
        var m = manifest;
        var embeddings = Embeddings(ImageCaptionCacheManifest.TensorName(prompt, ""));
        return new CachedImageCaption("(no image)", m.Captions[prompt], 0, 0, 0, [], [], embeddings.Tokens, embeddings.Width,
                                      embeddings.Context, embeddings.Pooled);
    }

    Sd3PromptEmbeddings Embeddings(string prompt)
    {
        var m = manifest;
        var l = new ClipTowerOutput(clipL.ReadFloat32(prompt + "hidden"), clipL.ReadFloat32(prompt + "pooled"), m.ClipLWidth,
                                    m.ClipLPooled);
        var g = new ClipTowerOutput(clipG.ReadFloat32(prompt + "hidden"), clipG.ReadFloat32(prompt + "pooled"), m.ClipGWidth,
                                    m.ClipGPooled);
        return Sd3PromptEncoder.Combine(l, g, t5?.ReadFloat32(prompt + "hidden"), 1, m.T5Tokens, m.JointDim, latents.Path);
    }

    static void Require(SafetensorsFile file, string name, long[] shape)
    {
        if (!file.Contains(name))
            throw new QzoException($"{file.Path}: tensor '{name}' is missing (an incomplete cache; prepare it again)");
        var info = file.Get(name);
        if (!info.Shape.SequenceEqual(shape))
            throw new QzoException($"{file.Path}: tensor '{name}' has shape {SafetensorsHeader.Text(info.Shape)}, cache.json says " +
                                   SafetensorsHeader.Text(shape));
        if (!info.DType.IsFloat()) throw new QzoException($"{file.Path}: tensor '{name}' is {info.DType.Name()}, not floating point");
    }
}

/// <summary>A split of a cache as a list whose items are read from disk when indexed.</summary>
sealed class CachedExampleList(CachedTensors tensors, IReadOnlyList<CachedExampleInfo> examples) : IReadOnlyList<CachedImageCaption>
{
    public int Count => examples.Count;

    public CachedImageCaption this[int index] => tensors.Read(examples[index]);

    public IEnumerator<CachedImageCaption> GetEnumerator()
    {
        for (int i = 0; i < examples.Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
