namespace Qzo.Diffusion.Training;

/// <summary>
/// SD3's training objective as diffusers' train_dreambooth_sd3.py computes it, in fp32:
/// <code>
/// x₀    = (mean + std·n − shift_factor) · scaling_factor     a sample of the cached VAE posterior
/// u     = sigmoid(m + s·N(0,1))            logit_normal        (mode: u ← 1 − u − scale·(cos²(πu/2) − 1 + u), u uniform;
///                                                               uniform, sigma_sqrt, cosmap: u uniform)
/// idx   = ⌊u · T⌋  (clamped to T − 1)
/// σ     = sigmas[idx], timestep = σ·T      the scheduler's T-entry shifted training table, descending
/// noisy = (1 − σ)·x₀ + σ·ε
/// loss  = w(σ) · mean (pred − (ε − x₀))²   or, preconditioned, mean ((noisy − σ·pred) − x₀)²
/// </code>
/// w is 1, except σ⁻² for sigma_sqrt and 2/(π(1 − 2σ + 2σ²)) for cosmap.
/// </summary>
public sealed class FlowMatchingNoising : ISd3Noising
{
    readonly Sd3ObjectiveSettings _settings;
    readonly float[] _sigmas;
    readonly float _shift, _scale;

    /// <param name="trainingSigmas">FlowMatchEulerScheduler.TrainingSigmas(): σ for t = T … 1</param>
    public FlowMatchingNoising(Sd3ObjectiveSettings settings, float[] trainingSigmas, float shiftFactor, float scalingFactor)
    {
        settings.Validate();
        _settings = settings;
        _sigmas = trainingSigmas;
        _shift = shiftFactor;
        _scale = scalingFactor;
    }

    public int TrainTimesteps => _sigmas.Length;

    /// <summary>diffusers' compute_density_for_timestep_sampling for one sample.</summary>
    public float DensitySample(ulong noiseSeed, int slot)
    {
        var s = _settings;
        if (s.Weighting == Sd3WeightingScheme.LogitNormal)
        {
            float logit = s.LogitMean + s.LogitStd * Sd3NoiseDraws.Normal(noiseSeed, slot);
            return 1f / (1f + MathF.Exp(-logit));
        }
        float u = Sd3NoiseDraws.Uniform(noiseSeed, slot);
        if (s.Weighting != Sd3WeightingScheme.Mode) return u;
        float cos = MathF.Cos(MathF.PI * u / 2);
        return 1f - u - s.ModeScale * (cos * cos - 1f + u);
    }

    /// <summary>The index into the training table: ⌊u·T⌋ as torch's .long() truncates, kept inside the table.</summary>
    public int TableIndex(ulong noiseSeed, int slot) =>
        (int)Math.Clamp(MathF.Floor(DensitySample(noiseSeed, slot) * TrainTimesteps), 0, TrainTimesteps - 1);

    public float LossWeight(float sigma) => _settings.Weighting switch
    {
        Sd3WeightingScheme.SigmaSqrt => 1f / (sigma * sigma),
        Sd3WeightingScheme.Cosmap => (float)(2 / (Math.PI * (1 - 2 * (double)sigma + 2 * (double)sigma * sigma))),
        _ => 1f,
    };

    public Sd3NoisedExample Noise(CachedImageCaption example, ulong noiseSeed, int slot)
    {
        long count = example.LatentMean.Length;
        var n = Sd3NoiseDraws.LatentNoise(noiseSeed, slot, count);
        var epsilon = Sd3NoiseDraws.Epsilon(noiseSeed, slot, count);
        float sigma = _sigmas[TableIndex(noiseSeed, slot)];
        float timestep = sigma * TrainTimesteps;
        var noisy = new float[count];
        var target = new float[count];
        bool precondition = _settings.PreconditionOutputs;
        float keep = 1f - sigma;
        for (long i = 0; i < count; i++)
        {
            float x0 = (example.LatentMean[i] + example.LatentStd[i] * n[i] - _shift) * _scale;
            noisy[i] = keep * x0 + sigma * epsilon[i];
            target[i] = precondition ? x0 : epsilon[i] - x0;
        }
        return new Sd3NoisedExample(noisy, target, timestep, sigma, precondition ? -sigma : 1f, precondition ? 1f : 0f,
                                    LossWeight(sigma));
    }
}
