namespace Qzo.Diffusion.Training;

/// <summary>
/// One example as the transformer sees it and as its output is scored: the noisy latents [C, h, w], the timestep given to
/// the model, and the target. The loss of the example is
/// <c>Weight · mean_i (OutputScale·pred[i] + InputWeight·Input[i] − Target[i])²</c>, which covers a plain prediction
/// (scale 1, input weight 0) and diffusers' preconditioned outputs (scale −σ, input weight 1, target x₀).
/// </summary>
/// <param name="Noise">σ of flow matching or ᾱ_t's t of DDPM, for logs and tests.</param>
public sealed record Sd3NoisedExample(float[] Input, float[] Target, float Timestep, float Noise, float OutputScale, float InputWeight,
                                      float Weight);

/// <summary>How an objective turns a cached image–caption pair into a <see cref="Sd3NoisedExample"/>.</summary>
public interface ISd3Noising
{
    /// <param name="noiseSeed">the step's (or validation's) noise seed, <see cref="Sd3NoiseDraws"/></param>
    /// <param name="slot">the example's place among the draws of that seed</param>
    Sd3NoisedExample Noise(CachedImageCaption example, ulong noiseSeed, int slot);
}
