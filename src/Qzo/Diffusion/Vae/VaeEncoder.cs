using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// diffusers' Encoder (double_z): conv_in → down_blocks → mid_block → conv_norm_out → SiLU → conv_out, giving
/// 2·latent_channels channels (the posterior's mean, then its log-variance) at 1/<see cref="VaeConfig.DownscaleFactor"/>
/// of the image's size.
/// </summary>
sealed class VaeEncoder : IDisposable
{
    public required Conv2dLayer ConvIn { get; init; }
    public required IReadOnlyList<DownEncoderBlock2D> DownBlocks { get; init; }
    public required MidBlock MidBlock { get; init; }
    public required GroupNormLayer NormOut { get; init; }
    public required Conv2dLayer ConvOut { get; init; }

    public static VaeEncoder Load(ParameterLoader p, VaeConfig c)
    {
        const string e = "encoder.";
        return new VaeEncoder
        {
            ConvIn = Conv2dLayer.Load(p, e + "conv_in", c.InChannels, c.BlockOutChannels[0], 3),
            DownBlocks = Enumerable.Range(0, c.Levels).Select(i => DownEncoderBlock2D.Load(p, $"{e}down_blocks.{i}", c, i)).ToList(),
            MidBlock = MidBlock.Load(p, e + "mid_block", c),
            NormOut = GroupNormLayer.Load(p, e + "conv_norm_out", c.BlockOutChannels[^1], c.NormGroups),
            ConvOut = Conv2dLayer.Load(p, e + "conv_out", c.BlockOutChannels[^1], 2 * c.LatentChannels, 3),
        };
    }

    /// <summary>
    /// The moments [B, 2L, h, w] as a new buffer (the image is left as it was); <paramref name="observe"/> sees the mid
    /// block's output as "encoder.mid_block".
    /// </summary>
    public DeviceTensor Forward(ForwardContext context, DeviceTensor image, ref ImageShape shape, VaeObserver? observe)
    {
        var x = ConvIn.Forward(context, image, shape);
        shape = ConvIn.OutputShape(shape);
        foreach (var block in DownBlocks) x = Activations.Replace(x, block.Forward(context, x, ref shape));
        x = Activations.Replace(x, MidBlock.Forward(context, x, shape));
        observe?.Invoke("encoder.mid_block", x, shape);
        NormOut.Forward(context, x, shape, x);
        Activations.Silu(context.Backend, x, shape.Count);
        var moments = ConvOut.Forward(context, x, shape);
        x.Dispose();
        shape = ConvOut.OutputShape(shape);
        return moments;
    }

    public IEnumerable<Parameter> Parameters => ConvIn.Parameters.Concat(DownBlocks.SelectMany(b => b.Parameters))
        .Concat(MidBlock.Parameters).Concat(NormOut.Parameters).Concat(ConvOut.Parameters);

    public void Dispose()
    {
        ConvIn.Dispose();
        foreach (var b in DownBlocks) b.Dispose();
        MidBlock.Dispose(); NormOut.Dispose(); ConvOut.Dispose();
    }
}
