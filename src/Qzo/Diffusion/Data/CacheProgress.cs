namespace Qzo.Diffusion.Data;

/// <summary>
/// Where building a cache is: <see cref="Stage"/> ("checking images", "fingerprinting", "VAE", "CLIP-L", "CLIP-G", "T5"),
/// its items done and in all, and <see cref="Fraction"/> of the whole build, weighted by each stage's rough cost.
/// </summary>
public sealed record CacheProgress(string Stage, long Done, long Total, double Fraction);
