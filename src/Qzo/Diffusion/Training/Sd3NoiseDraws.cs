using Qzo.Numerics;

namespace Qzo.Diffusion.Training;

/// <summary>
/// The random numbers of the diffusion objectives, each a pure function of a noise seed and an example's slot (its place
/// in the step's batch, or its index in the validation set), drawn from the project's Philox stream
/// (docs/algorithm.md §5) under a key of their own: slot k uses tensor numbers 3k (the latent sample's noise), 3k + 1 (ε)
/// and 3k + 2 (σ or t: a normal at counter word 3 = 0, a uniform at word 3 = 1). A step's noise seed is derived from its
/// step seed, which metrics.jsonl logs, so the + and − passes see the same draws and a step can be replayed.
/// </summary>
public static class Sd3NoiseDraws
{
    const ulong TrainingDomain = 0x5344_334E_4F49_5345UL, ValidationDomain = 0x5344_3356_414C_4944UL,
                SampleDomain = 0x5344_3349_4D47_0000UL;
    const float TwoPow24Inv = 1f / 16777216f;

    /// <summary>The noise seed of a training step with step seed <paramref name="stepSeed"/> (both passes of the step).</summary>
    public static ulong ForStep(ulong stepSeed) => SplitMix64.Mix(stepSeed ^ TrainingDomain);

    /// <summary>The fixed noise seed of validation: the same draws for each held-out pair at every evaluation.</summary>
    public static ulong ForValidation(ulong validationSeed) => SplitMix64.Mix(validationSeed ^ ValidationDomain);

    /// <summary>The standard-normal initial latents of the sample rendered with seed <paramref name="seed"/>.</summary>
    public static float[] SampleLatents(ulong seed, long count) => GaussianDirection.Draw(SplitMix64.Mix(seed ^ SampleDomain), 0, count);

    /// <summary>n in latent = mean + std·n, the sample of the VAE posterior.</summary>
    public static float[] LatentNoise(ulong seed, int slot, long count) => GaussianDirection.Draw(seed, 3 * slot, count);

    /// <summary>ε, the noise mixed into the latent.</summary>
    public static float[] Epsilon(ulong seed, int slot, long count) => GaussianDirection.Draw(seed, 3 * slot + 1, count);

    /// <summary>A standard normal (the logit-normal draw of σ).</summary>
    public static float Normal(ulong seed, int slot) => GaussianDirection.Z(seed, 3 * slot + 2, 0);

    /// <summary>A uniform in [0, 1), a multiple of 2⁻²⁴ as torch.rand's float32 draws are.</summary>
    public static float Uniform(ulong seed, int slot) => (Words(seed, slot).X0 >> 8) * TwoPow24Inv;

    /// <summary>An integer uniform in [0, n) (torch.randint), from a 32-bit word scaled by n.</summary>
    public static int Integer(ulong seed, int slot, int n) => (int)((ulong)Words(seed, slot).X1 * (ulong)n >> 32);

    static (uint X0, uint X1, uint X2, uint X3) Words(ulong seed, int slot) =>
        Philox.Generate(0u, 0u, (uint)(3 * slot + 2), 1u, (uint)seed, (uint)(seed >> 32));
}
