namespace Qzo.Diffusion.Training;

/// <summary>
/// One image–caption pair as text-to-image training consumes it after caching (docs/diffusion-training.md): the VAE
/// posterior of the image (mean and std, unscaled, [latent_channels, h, w]) and the SD3 prompt embeddings of its
/// caption (the joint sequence [tokens, joint_dim] and the pooled vector), all fp32 on the host. Training draws a
/// latent per step from (mean, std), then applies the VAE's shift and scaling factors.
/// </summary>
public sealed record CachedImageCaption(
    string Source,
    string Caption,
    int LatentChannels,
    int LatentHeight,
    int LatentWidth,
    float[] LatentMean,
    float[] LatentStd,
    int PromptTokens,
    int JointDim,
    float[] PromptEmbeds,
    float[] PooledEmbeds);
