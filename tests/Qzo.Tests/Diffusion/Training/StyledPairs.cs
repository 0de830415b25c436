using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Training;
using Qzo.Diffusion.Vae;
using Qzo.Imaging;

namespace Qzo.Tests.Diffusion.Training;

/// <summary>
/// A small styled image–caption set cached as training reads it: the project's synthetic styled shapes
/// (<see cref="StyledShapes"/>, what `qzo synth --dataset styled-shapes` writes) at 64 px, encoded by the pipeline's own
/// VAE (posterior mean and std, unscaled) and its CLIP-L, CLIP-G and T5 (the prompt embeddings and the pooled vector).
/// </summary>
static class StyledPairs
{
    public const int Size = 64, T5Tokens = 8;

    public static IReadOnlyList<CachedImageCaption> Build(string pipeline, int count, ulong seed)
    {
        var folder = Sd3PipelineFolder.Open(pipeline);
        var shapes = Enumerable.Range(0, count).Select(k => StyledShapes.Render(k, Size, seed)).ToList();
        var captions = shapes.Select(s => s.Caption).ToList();
        var images = shapes.Select(s => s.Image).ToList();

        using var backend = new CpuBackend();
        int joint = Qzo.Diffusion.Sd3.Sd3TransformerConfig.Load(Path.Combine(folder.Transformer, "config.json")).JointAttentionDim;
        var prompts = Sd3PromptEncoder.Encode(folder, backend, captions, T5Tokens, useT5: true, joint);
        VaePosterior posterior;
        using (var vae = AutoencoderKL.Load(folder.Vae, backend))
        {
            var shape = new ImageShape(count, 3, Size, Size);
            var pixels = new float[shape.Count];
            for (int n = 0; n < count; n++)
                for (int k = 0; k < 3 * Size * Size; k++) pixels[(long)n * 3 * Size * Size + k] = images[n].Planes[k] * 2 - 1;
            using var x = HostFloats.Upload(backend, pixels, MemoryCategory.Activations);
            posterior = vae.Encode(vae.Context(), x, shape);
        }
        var s = posterior.Shape;
        long perLatent = (long)s.Channels * s.Height * s.Width;
        long perPrompt = (long)prompts.Tokens * prompts.Width;
        return Enumerable.Range(0, count).Select(n => new CachedImageCaption(
            $"styled/{n:D3}.png", captions[n], s.Channels, s.Height, s.Width,
            posterior.Mean.AsSpan((int)(n * perLatent), (int)perLatent).ToArray(),
            Enumerable.Range(0, (int)perLatent).Select(i => posterior.Std(n * perLatent + i)).ToArray(),
            prompts.Tokens, prompts.Width, prompts.Context.AsSpan((int)(n * perPrompt), (int)perPrompt).ToArray(),
            prompts.Pooled.AsSpan(n * prompts.PooledWidth, prompts.PooledWidth).ToArray())).ToList();
    }
}
