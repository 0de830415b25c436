namespace Qzo.Diffusion.Training;

/// <summary>
/// The noising the official QZO code runs on SD3.5 (its train_text_to_image.py with a DDPMScheduler built from the SD3
/// scheduler folder, so DDPM's defaults apply), in fp32:
/// <code>
/// β     = linspace(1e-4, 0.02, T), ᾱ = cumprod(1 − β)
/// x₀    = (mean + std·n) · scaling_factor            no shift_factor subtraction, as that code does
/// t     = randint(0, T)                              the integer goes into the timestep embedding as it is
/// noisy = √ᾱ_t · x₀ + √(1 − ᾱ_t) · ε
/// loss  = mean (pred − ε)²
/// </code>
/// </summary>
public sealed class DdpmReferenceNoising : ISd3Noising
{
    public const float BetaStart = 1e-4f, BetaEnd = 0.02f;
    readonly float _scale;

    public DdpmReferenceNoising(int trainTimesteps, float scalingFactor)
    {
        if (trainTimesteps < 2) throw new QzoException($"DDPM needs at least 2 training timesteps, got {trainTimesteps}");
        _scale = scalingFactor;
        AlphasCumprod = CumulativeAlphas(trainTimesteps);
    }

    /// <summary>ᾱ_t for t = 0 … T − 1.</summary>
    public float[] AlphasCumprod { get; }

    /// <summary>
    /// β_i = start + i·(end − start)/(T − 1) rounded to fp32 (torch.linspace in float32 agrees to an ulp), and the running
    /// product of 1 − β_i in fp32 as torch.cumprod takes it.
    /// </summary>
    static float[] CumulativeAlphas(int steps)
    {
        var result = new float[steps];
        float product = 1f;
        for (int i = 0; i < steps; i++)
        {
            float beta = (float)(BetaStart + i * ((double)BetaEnd - BetaStart) / (steps - 1));
            product *= 1f - beta;
            result[i] = product;
        }
        return result;
    }

    public int Timestep(ulong noiseSeed, int slot) => Sd3NoiseDraws.Integer(noiseSeed, slot, AlphasCumprod.Length);

    public Sd3NoisedExample Noise(CachedImageCaption example, ulong noiseSeed, int slot)
    {
        long count = example.LatentMean.Length;
        var n = Sd3NoiseDraws.LatentNoise(noiseSeed, slot, count);
        var epsilon = Sd3NoiseDraws.Epsilon(noiseSeed, slot, count);
        int t = Timestep(noiseSeed, slot);
        float alphaBar = AlphasCumprod[t];
        float signal = MathF.Sqrt(alphaBar), noise = MathF.Sqrt(1f - alphaBar);
        var noisy = new float[count];
        for (long i = 0; i < count; i++)
            noisy[i] = signal * ((example.LatentMean[i] + example.LatentStd[i] * n[i]) * _scale) + noise * epsilon[i];
        return new Sd3NoisedExample(noisy, epsilon, t, t, 1f, 0f, 1f);
    }
}
