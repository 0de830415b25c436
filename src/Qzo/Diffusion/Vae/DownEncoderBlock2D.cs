using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// diffusers' DownEncoderBlock2D: layers_per_block resnets, then (except at the coarsest level) Downsample2D with
/// padding 0, i.e. F.pad(x, (0, 1, 0, 1)) (one zero column right, one zero row bottom) and a 3×3 conv of stride 2.
/// </summary>
sealed class DownEncoderBlock2D : IDisposable
{
    public required IReadOnlyList<ResnetBlock2D> Resnets { get; init; }
    public Conv2dLayer? Downsampler { get; init; }

    /// <summary>The downsampler's padding: right and bottom only.</summary>
    public static readonly Padding2d DownsamplePadding = new(Top: 0, Bottom: 1, Left: 0, Right: 1);

    public static DownEncoderBlock2D Load(ParameterLoader p, string prefix, VaeConfig c, int level)
    {
        int cIn = c.BlockOutChannels[Math.Max(level - 1, 0)], cOut = c.BlockOutChannels[level];
        var resnets = new List<ResnetBlock2D>();
        for (int j = 0; j < c.LayersPerBlock; j++)
            resnets.Add(ResnetBlock2D.Load(p, $"{prefix}.resnets.{j}", j == 0 ? cIn : cOut, cOut, c.NormGroups));
        bool last = level == c.Levels - 1;
        return new DownEncoderBlock2D
        {
            Resnets = resnets,
            Downsampler = last ? null : Conv2dLayer.Load(p, prefix + ".downsamplers.0.conv", cOut, cOut, 3, stride: 2, DownsamplePadding),
        };
    }

    /// <summary>A new buffer; x is left as it was. <paramref name="shape"/> becomes the output's shape.</summary>
    public DeviceTensor Forward(ForwardContext context, DeviceTensor x, ref ImageShape shape)
    {
        var y = Resnets[0].Forward(context, x, shape);
        shape = shape.WithChannels(Resnets[0].OutChannels);
        for (int j = 1; j < Resnets.Count; j++) y = Activations.Replace(y, Resnets[j].Forward(context, y, shape));
        if (Downsampler is null) return y;
        var down = Downsampler.Forward(context, y, shape);
        shape = Downsampler.OutputShape(shape);
        y.Dispose();
        return down;
    }

    public IEnumerable<Parameter> Parameters => Resnets.SelectMany(r => r.Parameters).Concat(Downsampler?.Parameters ?? []);

    public void Dispose()
    {
        foreach (var r in Resnets) r.Dispose();
        Downsampler?.Dispose();
    }
}
