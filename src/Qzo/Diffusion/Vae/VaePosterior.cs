namespace Qzo.Diffusion.Vae;

/// <summary>
/// diffusers' DiagonalGaussianDistribution over the latents: the encoder's moments split along the channels into the
/// mean and the log-variance, the latter clamped to [−30, 20]; std = exp(logvar / 2). Held on the host in fp32: the
/// latents are small (16·64·64 values per image at 512²) and the sampling and scaling around them are element-wise.
/// </summary>
public sealed class VaePosterior
{
    public const float LogVarMin = -30f, LogVarMax = 20f;

    VaePosterior(ImageShape shape, float[] mean, float[] logVar)
    {
        Shape = shape;
        Mean = mean;
        LogVar = logVar;
    }

    /// <summary>The latent shape [B, latent_channels, h, w].</summary>
    public ImageShape Shape { get; }
    public float[] Mean { get; }
    /// <summary>Clamped to [<see cref="LogVarMin"/>, <see cref="LogVarMax"/>].</summary>
    public float[] LogVar { get; }

    public float Std(long i) => MathF.Exp(0.5f * LogVar[i]);

    /// <summary>Splits the moments [B, 2L, h, w] (torch.chunk(2, dim=1)) and clamps the log-variance.</summary>
    public static VaePosterior FromMoments(float[] moments, ImageShape momentsShape)
    {
        var shape = momentsShape.WithChannels(momentsShape.Channels / 2);
        long perImage = (long)shape.Channels * shape.Spatial;
        var mean = new float[shape.Count];
        var logVar = new float[shape.Count];
        for (int b = 0; b < shape.Batch; b++)
        {
            long source = 2 * b * perImage, target = b * perImage;
            Array.Copy(moments, source, mean, target, perImage);
            for (long i = 0; i < perImage; i++) logVar[target + i] = Math.Clamp(moments[source + perImage + i], LogVarMin, LogVarMax);
        }
        return new VaePosterior(shape, mean, logVar);
    }
}
