namespace Qzo.Diffusion.Pipelines;

/// <summary>
/// One text-to-image request. Defaults follow SD3.5 Large's recommended sampling with diffusers' scheduler (28 Euler
/// steps, guidance 3.5); the size defaults to the transformer's sample_size × the VAE's scale factor (1024 for SD3.5).
/// </summary>
public sealed record ImagineSettings
{
    public required IReadOnlyList<string> Prompts { get; init; }
    /// <summary>The unconditional prompt of classifier-free guidance (diffusers' default: empty).</summary>
    public string NegativePrompt { get; init; } = "";
    public int Steps { get; init; } = 28;
    /// <summary>Classifier-free guidance scale; at most 1 turns guidance (and the negative pass) off.</summary>
    public float Guidance { get; init; } = 3.5f;
    public int? Width { get; init; }
    public int? Height { get; init; }
    /// <summary>Seed of the initial latents (Qzo's Philox Gaussian stream; torch's generator gives other images).</summary>
    public ulong Seed { get; init; }
    public int ImagesPerPrompt { get; init; } = 1;
    /// <summary>T5 tokens (diffusers' max_sequence_length, 256 by default).</summary>
    public int MaxSequenceLength { get; init; } = 256;
    /// <summary>false runs without T5 (its context is zeros, as SD3 does with text_encoder_3=None).</summary>
    public bool UseT5 { get; init; } = true;
    /// <summary>Initial latents [images, channels, height/f, width/f] given instead of drawn (for parity checks).</summary>
    public float[]? InitialLatents { get; init; }

    public bool Guided => Guidance > 1;
}
