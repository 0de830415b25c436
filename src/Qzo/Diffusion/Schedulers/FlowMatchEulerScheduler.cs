namespace Qzo.Diffusion.Schedulers;

/// <summary>
/// The sigma schedule of rectified-flow sampling, computed as diffusers' FlowMatchEulerDiscreteScheduler computes it,
/// rounding included: the training table in fp32 (σ = t/T for t = T..1, shifted), the inference schedule in float64
/// from that table's ends, shifted again, then rounded to fp32, with σ = 0 appended. A step moves the latents by
/// (σ_next − σ)·v. The model is given the timestep σ·T.
/// </summary>
public sealed class FlowMatchEulerScheduler(FlowMatchEulerConfig config)
{
    public FlowMatchEulerConfig Config { get; } = config;

    /// <summary>The training table, σ for t = T, T−1, …, 1 (descending), shifted unless the shift is dynamic.</summary>
    public float[] TrainingSigmas()
    {
        int n = Config.TrainTimesteps;
        float shift = (float)Config.Shift;
        var sigmas = new float[n];
        for (int i = 0; i < n; i++)
        {
            float t = (float)(n - i); // np.linspace(1, T, T, dtype=float32) reversed: whole numbers, exact in fp32
            float sigma = t / n;
            sigmas[i] = Config.DynamicShifting ? sigma : shift * sigma / (1 + (shift - 1) * sigma);
        }
        return sigmas;
    }

    /// <summary>The training table's timesteps, σ·T in fp32 (diffusers' scheduler.timesteps right after __init__).</summary>
    public float[] TrainingTimesteps() => TrainingSigmas().Select(s => s * Config.TrainTimesteps).ToArray();

    /// <summary>
    /// The inference sigmas for <paramref name="steps"/> steps, fp32, with a final 0 (steps + 1 values). With dynamic
    /// shifting, <paramref name="imageSeqLen"/> (latent tokens after patching) sets the shift as the SD3 pipeline does.
    /// </summary>
    public float[] Sigmas(int steps, int imageSeqLen = 0)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least one step");
        var table = TrainingSigmas();
        double max = table[0] * (double)Config.TrainTimesteps, min = table[^1] * (double)Config.TrainTimesteps;
        var sigmas = new float[steps + 1];
        double mu = Config.DynamicShifting ? Mu(imageSeqLen) : 0;
        var shifted = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            double t = steps == 1 ? max : max + (min - max) * i / (steps - 1); // np.linspace, float64
            double sigma = t / Config.TrainTimesteps;
            shifted[i] = Config.DynamicShifting ? TimeShift(mu, sigma) : Config.Shift * sigma / (1 + (Config.Shift - 1) * sigma);
        }
        if (Config.ShiftTerminal is double terminal && terminal != 0)
        {
            double scale = (1 - shifted[^1]) / (1 - terminal);
            for (int i = 0; i < steps; i++) shifted[i] = 1 - (1 - shifted[i]) / scale;
        }
        for (int i = 0; i < steps; i++) sigmas[i] = (float)shifted[i];
        sigmas[steps] = 0f;
        return sigmas;
    }

    /// <summary>The timesteps the model is given: σ·T in fp32, one per step.</summary>
    public float[] Timesteps(float[] sigmas) => sigmas[..^1].Select(s => s * Config.TrainTimesteps).ToArray();

    /// <summary>diffusers' calculate_shift: μ linear in the image's token count between the base and max lengths.</summary>
    public double Mu(int imageSeqLen)
    {
        double m = (Config.MaxShift - Config.BaseShift) / (Config.MaxImageSeqLen - Config.BaseImageSeqLen);
        double b = Config.BaseShift - m * Config.BaseImageSeqLen;
        return imageSeqLen * m + b;
    }

    double TimeShift(double mu, double t) => Config.TimeShiftType == "linear"
        ? mu / (mu + (1 / t - 1))
        : Math.Exp(mu) / (Math.Exp(mu) + (1 / t - 1));
}
