using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// diffusers' Decoder (norm_type "group"): conv_in → mid_block → up_blocks → conv_norm_out → SiLU → conv_out, from
/// latent_channels at the latent size to out_channels at <see cref="VaeConfig.DownscaleFactor"/> times that size.
/// </summary>
sealed class VaeDecoder : IDisposable
{
    public required Conv2dLayer ConvIn { get; init; }
    public required MidBlock MidBlock { get; init; }
    public required IReadOnlyList<UpDecoderBlock2D> UpBlocks { get; init; }
    public required GroupNormLayer NormOut { get; init; }
    public required Conv2dLayer ConvOut { get; init; }

    public static VaeDecoder Load(ParameterLoader p, VaeConfig c)
    {
        const string d = "decoder.";
        return new VaeDecoder
        {
            ConvIn = Conv2dLayer.Load(p, d + "conv_in", c.LatentChannels, c.BlockOutChannels[^1], 3),
            MidBlock = MidBlock.Load(p, d + "mid_block", c),
            UpBlocks = Enumerable.Range(0, c.Levels).Select(i => UpDecoderBlock2D.Load(p, $"{d}up_blocks.{i}", c, i)).ToList(),
            NormOut = GroupNormLayer.Load(p, d + "conv_norm_out", c.BlockOutChannels[0], c.NormGroups),
            ConvOut = Conv2dLayer.Load(p, d + "conv_out", c.BlockOutChannels[0], c.OutChannels, 3),
        };
    }

    /// <summary>
    /// The image as a new buffer (the latents are left as they were); <paramref name="observe"/> sees the mid block's
    /// output as "decoder.mid_block".
    /// </summary>
    public DeviceTensor Forward(ForwardContext context, DeviceTensor latents, ref ImageShape shape, VaeObserver? observe)
    {
        var x = ConvIn.Forward(context, latents, shape);
        shape = ConvIn.OutputShape(shape);
        x = Activations.Replace(x, MidBlock.Forward(context, x, shape));
        observe?.Invoke("decoder.mid_block", x, shape);
        foreach (var block in UpBlocks) x = Activations.Replace(x, block.Forward(context, x, ref shape));
        NormOut.Forward(context, x, shape, x);
        Activations.Silu(context.Backend, x, shape.Count);
        var image = ConvOut.Forward(context, x, shape);
        x.Dispose();
        shape = ConvOut.OutputShape(shape);
        return image;
    }

    public IEnumerable<Parameter> Parameters => ConvIn.Parameters.Concat(MidBlock.Parameters)
        .Concat(UpBlocks.SelectMany(b => b.Parameters)).Concat(NormOut.Parameters).Concat(ConvOut.Parameters);

    public void Dispose()
    {
        ConvIn.Dispose(); MidBlock.Dispose();
        foreach (var b in UpBlocks) b.Dispose();
        NormOut.Dispose(); ConvOut.Dispose();
    }
}
