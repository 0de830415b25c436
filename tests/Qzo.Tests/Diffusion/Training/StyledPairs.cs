using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Training;
using Qzo.Diffusion.Vae;
using Qzo.Imaging;

namespace Qzo.Tests.Diffusion.Training;

/// <summary>
/// A small styled image–caption set cached as training reads it: 64 px pictures of simple shapes, all in one "sunset"
/// colour scheme (an orange-to-violet gradient, dark violet shapes), encoded by the pipeline's own VAE (posterior mean
/// and std, unscaled) and its CLIP-L, CLIP-G and T5 (the prompt embeddings and the pooled vector).
/// </summary>
static class StyledPairs
{
    public const int Size = 64, T5Tokens = 8;
    static readonly string[] Shapes = ["circle", "square", "triangle", "ring", "bar"];
    static readonly string[] Places = ["on the left", "on the right", "at the top", "at the bottom", "in the middle"];

    public static IReadOnlyList<CachedImageCaption> Build(string pipeline, int count, int seed)
    {
        var folder = Sd3PipelineFolder.Open(pipeline);
        var random = new Random(seed);
        var items = Enumerable.Range(0, count).Select(_ => (Shape: random.Next(Shapes.Length), Place: random.Next(Places.Length),
                                                             Radius: 8 + random.Next(8))).ToList();
        var captions = items.Select(i => $"a {Shapes[i.Shape]} {Places[i.Place]}, sunset style").ToList();
        var images = items.Select(i => Render(i.Shape, i.Place, i.Radius)).ToList();

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

    /// <summary>One picture: the style's gradient and one dark shape.</summary>
    static RgbImage Render(int shape, int place, int radius)
    {
        var image = RgbImage.Blank(Size, Size);
        var (cx, cy) = place switch { 0 => (16, 32), 1 => (48, 32), 2 => (32, 16), 3 => (32, 48), _ => (32, 32) };
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                float t = y / (float)(Size - 1);
                (float r, float g, float b) colour = (1f - 0.45f * t, 0.55f - 0.35f * t, 0.2f + 0.5f * t);
                int dx = x - cx, dy = y - cy;
                double distance = Math.Sqrt(dx * dx + dy * dy);
                bool inside = shape switch
                {
                    0 => distance <= radius,
                    1 => Math.Abs(dx) <= radius && Math.Abs(dy) <= radius,
                    2 => dy <= radius && dy >= -radius && Math.Abs(dx) <= (dy + radius) / 2,
                    3 => distance <= radius && distance >= radius - 4,
                    _ => Math.Abs(dy) <= 3 && Math.Abs(dx) <= radius + 6,
                };
                if (inside) colour = (0.25f, 0.05f, 0.3f);
                image[0, y, x] = colour.r;
                image[1, y, x] = colour.g;
                image[2, y, x] = colour.b;
            }
        return image;
    }
}
