using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Schedulers;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.Imaging;

namespace Qzo.Diffusion.Training;

/// <summary>
/// The images a run renders to show the style arriving: the same prompts (cached embeddings, so no text encoder is
/// loaded) and the same seeds at every evaluation, denoised by <see cref="Sd3Pipeline.Denoise"/> with the transformer in
/// memory and its scales as they are now, then decoded by the pipeline's VAE, loaded for the call and released. Image
/// (prompt p, seed s) starts from latents that depend on s alone (<see cref="Sd3NoiseDraws.SampleLatents"/>), so a
/// column of the grid shares its noise. Unguided unless a negative prompt's embeddings are given.
/// </summary>
public sealed class Sd3SampleGrid
{
    readonly Sd3Transformer _transformer;
    readonly string _vae;
    readonly FlowMatchEulerScheduler _scheduler;
    readonly Sd3PromptEmbeddings _context;
    readonly ImageShape _shape;
    readonly float[] _initial;
    readonly int _steps;
    readonly float _guidance;

    /// <param name="negative">the unconditional prompt's embeddings (an empty caption); needed when guidance &gt; 1</param>
    public Sd3SampleGrid(Sd3Transformer transformer, Sd3PipelineFolder pipeline, IReadOnlyList<CachedImageCaption> prompts,
                         IReadOnlyList<ulong> seeds, int steps, float guidance, CachedImageCaption? negative)
    {
        if (prompts.Count == 0 || seeds.Count == 0) throw new QzoException("sample grids need at least one prompt and one seed");
        if (steps < 1) throw new QzoException($"--sample-steps must be ≥ 1, got {steps}");
        if (guidance > 1 && negative is null)
            throw new QzoException("guided samples (--sample-guidance > 1) need the empty prompt's cached embeddings, which this " +
                                   "cache lacks: run `qzo prepare` again with --force");
        var first = prompts[0];
        foreach (var p in prompts)
        {
            Sd3ExampleShape.Require(p, transformer.Config, transformer.Source);
            Sd3ExampleShape.RequireSame(first, p);
        }
        if (negative is not null && (negative.PromptTokens != first.PromptTokens || negative.JointDim != first.JointDim
                                     || negative.PromptEmbeds.LongLength != first.PromptEmbeds.LongLength
                                     || negative.PooledEmbeds.Length != first.PooledEmbeds.Length))
            throw new QzoException($"the negative prompt's embeddings ({negative.PromptTokens}×{negative.JointDim}) do not match the " +
                                   $"prompts' ({first.PromptTokens}×{first.JointDim})");
        _transformer = transformer;
        _vae = pipeline.Vae;
        _scheduler = new FlowMatchEulerScheduler(FlowMatchEulerConfig.Read(Path.Combine(pipeline.Scheduler, "scheduler_config.json")));
        _steps = steps;
        _guidance = guidance;
        Prompts = prompts.Select(p => p.Caption).ToList();
        Seeds = seeds.ToList();
        var images = prompts.SelectMany(p => seeds.Select(_ => p)).ToList();
        _context = Embeddings(images, first.PromptTokens, first.JointDim);
        if (guidance > 1) _context = _context.After(Embeddings(images.Select(_ => negative!).ToList(), first.PromptTokens, first.JointDim));
        _shape = new ImageShape(images.Count, first.LatentChannels, first.LatentHeight, first.LatentWidth);
        long perImage = (long)first.LatentChannels * first.LatentHeight * first.LatentWidth;
        _initial = new float[perImage * images.Count];
        for (int p = 0; p < prompts.Count; p++)
            for (int s = 0; s < seeds.Count; s++)
                Array.Copy(Sd3NoiseDraws.SampleLatents(seeds[s], perImage), 0, _initial, (p * seeds.Count + s) * perImage, perImage);
    }

    public IReadOnlyList<string> Prompts { get; }
    public IReadOnlyList<ulong> Seeds { get; }

    /// <summary>The images, prompt-major (prompt 0 with each seed, then prompt 1, …).</summary>
    public IReadOnlyList<RgbImage> Render()
    {
        var settings = new ImagineSettings
        {
            Prompts = Prompts, Steps = _steps, Guidance = _guidance, InitialLatents = _initial,
        };
        var latents = Sd3Pipeline.Denoise(_transformer, _transformer.Backend, _scheduler, _context, _shape, settings, null, null);
        return Sd3Pipeline.Decode(_vae, _transformer.Backend, latents, _shape);
    }

    /// <summary>The images side by side: one row per prompt, one column per seed.</summary>
    public RgbImage ContactSheet(IReadOnlyList<RgbImage> images) => Imaging.ContactSheet.Compose(images, Seeds.Count);

    static Sd3PromptEmbeddings Embeddings(IReadOnlyList<CachedImageCaption> rows, int tokens, int width)
    {
        var context = new float[(long)rows.Count * tokens * width];
        int pooledWidth = rows[0].PooledEmbeds.Length;
        var pooled = new float[rows.Count * pooledWidth];
        for (int i = 0; i < rows.Count; i++)
        {
            Array.Copy(rows[i].PromptEmbeds, 0, context, (long)i * tokens * width, (long)tokens * width);
            Array.Copy(rows[i].PooledEmbeds, 0, pooled, i * pooledWidth, pooledWidth);
        }
        return new Sd3PromptEmbeddings(context, pooled, rows.Count, tokens, width, pooledWidth);
    }
}
