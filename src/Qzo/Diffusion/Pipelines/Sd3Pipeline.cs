using System.Diagnostics;
using Qzo.Compute;
using Qzo.Diffusion.Schedulers;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.Imaging;
using Qzo.Models;

namespace Qzo.Diffusion.Pipelines;

/// <summary>Where a run is: the stage and, while denoising, the step just done.</summary>
public readonly record struct ImagineProgress(string Stage, int Step, int Steps);

/// <summary>
/// Text to image with a Stable Diffusion 3 / 3.5 pipeline folder, as diffusers' StableDiffusion3Pipeline.__call__
/// does it: encode the prompts (and the negative prompt when guided), draw the latents, run the flow-matching Euler
/// steps with classifier-free guidance (the transformer sees [negative, positive] as one batch), then decode with the
/// VAE. Each stage loads its models and releases them before the next, so the device holds one text encoder, or the
/// transformer, or the VAE at a time (plus the small embeddings and latents).
/// </summary>
public static class Sd3Pipeline
{
    public static ImagineResult Generate(Sd3PipelineFolder folder, IBackend backend, ImagineSettings s,
                                         IProgress<ImagineProgress>? progress = null)
    {
        var transformerConfig = Sd3TransformerConfig.Load(Path.Combine(folder.Transformer, "config.json"));
        var vaeConfig = VaeConfig.Load(Path.Combine(folder.Vae, "config.json"));
        var scheduler = new FlowMatchEulerScheduler(FlowMatchEulerConfig.Read(Path.Combine(folder.Scheduler, "scheduler_config.json")));
        int factor = 1 << (vaeConfig.Levels - 1);
        int width = s.Width ?? transformerConfig.SampleSize * factor, height = s.Height ?? transformerConfig.SampleSize * factor;
        int multiple = factor * transformerConfig.PatchSize;
        if (width % multiple != 0 || height % multiple != 0 || width <= 0 || height <= 0)
            throw new QzoException($"image size {width}×{height} must be a positive multiple of {multiple} (VAE factor × patch size)");
        if (s.Prompts.Count == 0) throw new QzoException("no prompt given");
        int images = s.Prompts.Count * s.ImagesPerPrompt;
        var latentShape = new ImageShape(images, transformerConfig.InChannels, height / factor, width / factor);

        var clock = Stopwatch.StartNew();
        backend.Memory.ResetPeaks();
        progress?.Report(new("encoding prompts", 0, s.Steps));
        var positive = Sd3PromptEncoder.Encode(folder, backend, s.Prompts, s.MaxSequenceLength, s.UseT5,
                                               transformerConfig.JointAttentionDim).Repeat(s.ImagesPerPrompt);
        var context = s.Guided
            ? positive.After(Sd3PromptEncoder.Encode(folder, backend, Enumerable.Repeat(s.NegativePrompt, s.Prompts.Count).ToList(),
                                                     s.MaxSequenceLength, s.UseT5, transformerConfig.JointAttentionDim)
                                    .Repeat(s.ImagesPerPrompt))
            : positive;
        double encodeSeconds = clock.Elapsed.TotalSeconds;
        long encodePeak = backend.Memory.PeakTotal;

        clock.Restart();
        backend.Memory.ResetPeaks(); // each stage's peak is its own: the stages run one after another
        float[] latents;
        double loadSeconds;
        var stepSeconds = new double[s.Steps];
        using (var transformer = Sd3Transformer.Load(folder.Transformer, backend))
        {
            backend.Synchronize();
            loadSeconds = clock.Elapsed.TotalSeconds;
            latents = Denoise(transformer, backend, scheduler, context, latentShape, s, stepSeconds, progress);
        }
        double denoiseSeconds = clock.Elapsed.TotalSeconds;
        long denoisePeak = backend.Memory.PeakTotal;

        clock.Restart();
        backend.Memory.ResetPeaks();
        progress?.Report(new("decoding", s.Steps, s.Steps));
        var result = Decode(folder.Vae, backend, latents, latentShape);
        return new ImagineResult(result, encodeSeconds, denoiseSeconds, clock.Elapsed.TotalSeconds, encodePeak, denoisePeak,
                                 backend.Memory.PeakTotal, backend.Memory.PeakBreakdown(), latents, loadSeconds, stepSeconds);
    }

    /// <summary>
    /// Loads the VAE of <paramref name="vaeFolder"/>, decodes diffusion latents [images, C, h, w] to images, and releases it.
    /// </summary>
    public static IReadOnlyList<RgbImage> Decode(string vaeFolder, IBackend backend, float[] latents, ImageShape latentShape)
    {
        var result = new List<RgbImage>(latentShape.Batch);
        using var vae = AutoencoderKL.Load(vaeFolder, backend);
        using var z = HostFloats.Upload(backend, latents, MemoryCategory.Activations);
        using var decoded = vae.DecodeLatents(vae.Context(), z, latentShape);
        var shape = vae.DecodedShape(latentShape);
        var pixels = HostFloats.Download(backend, decoded, shape.Count);
        for (int i = 0; i < latentShape.Batch; i++) result.Add(RgbImage.FromSigned(pixels, i, shape.Width, shape.Height));
        return result;
    }

    /// <summary>
    /// The Euler loop with a loaded transformer (whose trainable scales, if any, are used as they are now) and prompt
    /// embeddings already computed ([negative, positive] along the batch when guided). Latents stay in the compute type
    /// between steps (as diffusers keeps them in the model's dtype); guidance v = v_u + g·(v_c − v_u) and the step
    /// x + (σ_next − σ)·v are each computed in fp32 and rounded once. Returns the final latents on the host;
    /// <paramref name="stepSeconds"/>, when given, gets each step's time (the device synchronised after each step, so the
    /// times compare with diffusers' loop timed between synchronisations).
    /// </summary>
    public static float[] Denoise(Sd3Transformer transformer, IBackend backend, FlowMatchEulerScheduler scheduler,
                                  Sd3PromptEmbeddings context, ImageShape shape, ImagineSettings s, double[]? stepSeconds,
                                  IProgress<ImagineProgress>? progress)
    {
        const MemoryCategory act = MemoryCategory.Activations;
        int images = shape.Batch, modelBatch = s.Guided ? 2 * images : images;
        long perImage = (long)shape.Channels * shape.Height * shape.Width;
        if (perImage > int.MaxValue) throw new QzoException($"latents {shape} are too large");
        using var encoder = HostFloats.Upload(backend, context.Context, act);
        using var pooled = HostFloats.Upload(backend, context.Pooled, act);
        using var latents = InitialLatents(backend, s, shape);
        using var input = s.Guided ? backend.Allocate(backend.ComputeType, modelBatch * perImage, act) : null;
        using var velocity = backend.Allocate(backend.ComputeType, modelBatch * perImage, act);
        using var conditional = s.Guided ? backend.Allocate(backend.ComputeType, images * perImage, act) : null;
        using var unconditional = s.Guided ? backend.Allocate(backend.ComputeType, images * perImage, act) : null;
        var forward = transformer.Context(default);

        int patch = transformer.Config.PatchSize;
        float[] sigmas = scheduler.Sigmas(s.Steps, shape.Height / patch * (shape.Width / patch));
        float[] timesteps = scheduler.Timesteps(sigmas);
        int columns = (int)perImage;
        var stepClock = Stopwatch.StartNew();
        for (int step = 0; step < s.Steps; step++)
        {
            stepClock.Restart();
            var modelInput = latents;
            if (input is not null)
            {   // [latents, latents]: the first half meets the negative context, the second the prompts'
                backend.CopyMatrix(MatrixView.Of(latents, columns), MatrixView.Of(input, columns), images, columns);
                backend.CopyMatrix(MatrixView.Of(latents, columns), MatrixView.Of(input, columns).At(images, 0), images, columns);
                modelInput = input;
            }
            transformer.Forward(forward, modelInput, encoder, pooled, Enumerable.Repeat(timesteps[step], modelBatch).ToArray(),
                                velocity, modelBatch, shape.Height, shape.Width, context.Tokens);
            var direction = velocity;
            if (s.Guided)
            {
                backend.CopyMatrix(MatrixView.Of(velocity, columns), MatrixView.Of(unconditional!, columns), images, columns);
                backend.CopyMatrix(MatrixView.Of(velocity, columns).At(images, 0), MatrixView.Of(conditional!, columns), images, columns);
                backend.Axpby(unconditional!, conditional!, 1 - s.Guidance, s.Guidance, images * perImage);
                direction = unconditional!;
            }
            backend.Axpby(latents, direction, 1f, sigmas[step + 1] - sigmas[step], images * perImage);
            if (stepSeconds is not null)
            {
                backend.Synchronize();
                stepSeconds[step] = stepClock.Elapsed.TotalSeconds;
            }
            progress?.Report(new("denoising", step + 1, s.Steps));
        }
        return HostFloats.Download(backend, latents, images * perImage);
    }

    static DeviceTensor InitialLatents(IBackend backend, ImagineSettings s, ImageShape shape)
    {
        if (s.InitialLatents is { } given)
        {
            if (given.LongLength != shape.Count)
                throw new QzoException($"initial latents hold {given.LongLength} values; {shape} needs {shape.Count}");
            return HostFloats.Upload(backend, given, MemoryCategory.Activations);
        }
        var latents = backend.Allocate(backend.ComputeType, shape.Count, MemoryCategory.Activations);
        backend.FillRandom(latents, RandomFill.Gaussian, s.Seed, 0, 0f, 1f, shape.Count);
        return latents;
    }
}
