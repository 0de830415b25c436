using Qzo.Compute;
using Qzo.Diffusion.Sd3;
using Qzo.Training;

namespace Qzo.Diffusion.Training;

/// <summary>
/// The loss of a text-to-image batch under a perturbation of the transformer's trainable scales: each cached pair is
/// noised by the <see cref="ISd3Noising"/> with draws keyed by the step's noise seed (<see cref="Sd3NoiseDraws.ForStep"/>
/// of the perturbation's seed, so the + and − passes of a step see the same latent sample, ε and σ or t), the transformer
/// runs on the backend in forward batches of at most <paramref name="forwardBatch"/> pairs, and the loss is the mean over
/// the batch of each pair's weighted mean squared error (diffusers' reduction). Only one forward batch's tensors are
/// on the device at a time.
/// </summary>
/// <param name="forwardBatch">pairs per transformer call; 0 runs a whole batch at once</param>
public sealed class Sd3DiffusionObjective(Sd3Transformer transformer, ISd3Noising noising, int forwardBatch = 0)
    : IObjective<CachedImageCaption>
{
    ulong _noisedSeed;
    IReadOnlyList<CachedImageCaption>? _noisedBatch;
    Sd3NoisedExample[]? _noised;
    // The device copies of a step's inputs when the whole batch is one forward: the − pass reuses the + pass's upload.
    UploadedInputs? _uploaded;

    sealed record UploadedInputs(Sd3NoisedExample[] Noised, DeviceTensor Latents, DeviceTensor Context, DeviceTensor Pooled) : IDisposable
    {
        public void Dispose() { Latents.Dispose(); Context.Dispose(); Pooled.Dispose(); }
    }

    public ISd3Noising Noising => noising;

    /// <summary>Sees each forward batch's noised examples (for tests of the common random numbers).</summary>
    internal Action<IReadOnlyList<Sd3NoisedExample>>? Observe { get; set; }

    public double Loss(IReadOnlyList<CachedImageCaption> batch, Perturbation p)
    {
        if (batch.Count == 0) throw new ArgumentException("an empty batch", nameof(batch));
        ulong seed = Sd3NoiseDraws.ForStep(p.Seed);
        // The − pass of a step meets the batch and seed of its + pass: reuse those draws rather than draw them again.
        if (_noised is null || _noisedSeed != seed || !ReferenceEquals(_noisedBatch, batch))
        {
            _noised = OperationProfile.Phase("noise draws", () => NoiseAll(batch, seed, firstSlot: 0));
            (_noisedSeed, _noisedBatch) = (seed, batch);
        }
        double sum = 0;
        int size = forwardBatch > 0 ? forwardBatch : batch.Count;
        for (int start = 0; start < batch.Count; start += size)
        {
            int count = Math.Min(size, batch.Count - start);
            sum += count == batch.Count
                ? Forward(Slice(batch, start, count), _noised, p, keepUploads: true)
                : Forward(Slice(batch, start, count), _noised.AsSpan(start, count).ToArray(), p);
        }
        return sum / batch.Count;
    }

    /// <summary>
    /// The unperturbed loss of held-out pairs at fixed draws (pair i always gets slot i of
    /// <see cref="Sd3NoiseDraws.ForValidation"/>), so evaluations at different steps compare the model, not the noise.
    /// </summary>
    public EvaluationResult Evaluate(IReadOnlyList<CachedImageCaption> examples, ulong validationSeed)
    {
        if (examples.Count == 0) throw new QzoException("no validation examples");
        ReleaseUploads();
        ulong seed = Sd3NoiseDraws.ForValidation(validationSeed);
        double sum = 0;
        int size = forwardBatch > 0 ? forwardBatch : 16;
        for (int start = 0; start < examples.Count; start += size)
        {
            var chunk = Slice(examples, start, Math.Min(size, examples.Count - start));
            var noised = NoiseAll(chunk, seed, firstSlot: start);
            sum += Forward(chunk, noised, Perturbation.None);
        }
        return new EvaluationResult(sum / examples.Count, null, null, examples.Count, 0);
    }

    /// <summary>
    /// Each pair's draws at slot firstSlot + its index, the pairs in parallel (a draw is a pure function of seed and slot).
    /// </summary>
    Sd3NoisedExample[] NoiseAll(IReadOnlyList<CachedImageCaption> pairs, ulong seed, int firstSlot)
    {
        var noised = new Sd3NoisedExample[pairs.Count];
        Parallel.For(0, pairs.Count, k => noised[k] = noising.Noise(pairs[k], seed, firstSlot + k));
        return noised;
    }

    static List<CachedImageCaption> Slice(IReadOnlyList<CachedImageCaption> examples, int start, int count)
    {
        var slice = new List<CachedImageCaption>(count);
        for (int i = start; i < start + count; i++) slice.Add(examples[i]);
        return slice;
    }

    /// <summary>One transformer call over the pairs; returns the sum of their losses.</summary>
    double Forward(List<CachedImageCaption> pairs, Sd3NoisedExample[] noised, Perturbation p, bool keepUploads = false)
    {
        var c = transformer.Config;
        var first = pairs[0];
        foreach (var e in pairs)
        {
            Sd3ExampleShape.Require(e, c, transformer.Source);
            Sd3ExampleShape.RequireSame(first, e);
        }
        Observe?.Invoke(noised);
        var b = transformer.Backend;
        int n = pairs.Count, h = first.LatentHeight, w = first.LatentWidth, tokens = first.PromptTokens;
        long perLatent = first.LatentMean.LongLength;
        const MemoryCategory act = MemoryCategory.Activations;
        if (!ReferenceEquals(_uploaded?.Noised, noised))
        {
            ReleaseUploads();
            var uploaded = OperationProfile.Phase("upload inputs", () => new UploadedInputs(noised,
                HostFloats.Upload(b, Concat(noised.Select(x => x.Input), perLatent * n), act),
                HostFloats.Upload(b, Concat(pairs.Select(x => x.PromptEmbeds), (long)tokens * c.JointAttentionDim * n), act),
                HostFloats.Upload(b, Concat(pairs.Select(x => x.PooledEmbeds), (long)c.PooledProjectionDim * n), act)));
            if (!keepUploads) { using (uploaded) return Run(uploaded); }
            _uploaded = uploaded;
        }
        return Run(_uploaded!);

        double Run(UploadedInputs inputs)
        {
            using var velocity = b.Allocate(b.ComputeType, perLatent * n, act);
            var timesteps = noised.Select(x => x.Timestep).ToArray();
            transformer.Forward(transformer.Context(p), inputs.Latents, inputs.Context, inputs.Pooled, timesteps, velocity, n, h, w,
                                tokens);
            // With QZO_PROFILE=host the download also waits for the device to finish the forward.
            var prediction = OperationProfile.Phase("download prediction", () => HostFloats.Download(b, velocity, perLatent * n));
            return OperationProfile.Phase("losses", () => Losses(noised, prediction, perLatent));
        }
    }

    void ReleaseUploads()
    {
        _uploaded?.Dispose();
        _uploaded = null;
    }

    /// <summary>The sum over the pairs of each one's weighted mean squared error, from the transformer's prediction.</summary>
    static double Losses(Sd3NoisedExample[] noised, float[] prediction, long perLatent)
    {
        // Each pair's error in parallel, summed in pair order: the same bits as one loop.
        var losses = new double[noised.Length];
        Parallel.For(0, noised.Length, k =>
        {
            var x = noised[k];
            double squares = 0;
            long offset = k * perLatent;
            for (long i = 0; i < perLatent; i++)
            {
                double difference = (double)x.OutputScale * prediction[offset + i] + (double)x.InputWeight * x.Input[i] - x.Target[i];
                squares += difference * difference;
            }
            losses[k] = x.Weight * (squares / perLatent);
        });
        double sum = 0;
        foreach (double loss in losses) sum += loss;
        return sum;
    }

    static float[] Concat(IEnumerable<float[]> parts, long total)
    {
        var result = new float[total];
        long offset = 0;
        foreach (var part in parts)
        {
            Array.Copy(part, 0, result, offset, part.LongLength);
            offset += part.LongLength;
        }
        return result;
    }
}
