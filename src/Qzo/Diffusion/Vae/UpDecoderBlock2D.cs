using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// diffusers' UpDecoderBlock2D: layers_per_block + 1 resnets, then (except at the finest level) Upsample2D:
/// nearest-neighbour ×2 and a 3×3 conv with padding 1.
/// </summary>
sealed class UpDecoderBlock2D : IDisposable
{
    public required IReadOnlyList<ResnetBlock2D> Resnets { get; init; }
    public Conv2dLayer? Upsampler { get; init; }

    /// <summary>
    /// Up block i works at level Levels − 1 − i: its input has the channels of the level below (block 0: the coarsest
    /// level's, which the decoder's conv_in gives), its output those of its own level.
    /// </summary>
    public static UpDecoderBlock2D Load(ParameterLoader p, string prefix, VaeConfig c, int index)
    {
        var reversed = c.BlockOutChannels.Reverse().ToArray();
        int cIn = reversed[Math.Max(index - 1, 0)], cOut = reversed[index];
        var resnets = new List<ResnetBlock2D>();
        for (int j = 0; j < c.LayersPerBlock + 1; j++)
            resnets.Add(ResnetBlock2D.Load(p, $"{prefix}.resnets.{j}", j == 0 ? cIn : cOut, cOut, c.NormGroups));
        bool last = index == c.Levels - 1;
        return new UpDecoderBlock2D
        {
            Resnets = resnets,
            Upsampler = last ? null : Conv2dLayer.Load(p, prefix + ".upsamplers.0.conv", cOut, cOut, 3),
        };
    }

    /// <summary>A new buffer; x is left as it was. <paramref name="shape"/> becomes the output's shape.</summary>
    public DeviceTensor Forward(ForwardContext context, DeviceTensor x, ref ImageShape shape)
    {
        var y = Resnets[0].Forward(context, x, shape);
        shape = shape.WithChannels(Resnets[0].OutChannels);
        for (int j = 1; j < Resnets.Count; j++) y = Activations.Replace(y, Resnets[j].Forward(context, y, shape));
        if (Upsampler is null) return y;
        var large = shape with { Height = 2 * shape.Height, Width = 2 * shape.Width };
        using (var nearest = Activations.New(context.Backend, large.Count))
        {
            context.Backend.UpsampleNearest2x(y, nearest, shape.Batch * shape.Channels, shape.Height, shape.Width);
            y.Dispose();
            shape = large;
            return Upsampler.Forward(context, nearest, large);
        }
    }

    public IEnumerable<Parameter> Parameters => Resnets.SelectMany(r => r.Parameters).Concat(Upsampler?.Parameters ?? []);

    public void Dispose()
    {
        foreach (var r in Resnets) r.Dispose();
        Upsampler?.Dispose();
    }
}
