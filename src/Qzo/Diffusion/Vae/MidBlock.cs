using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>diffusers' UNetMidBlock2D in the VAE: resnets.0, attentions.0 (unless mid_block_add_attention is false), resnets.1.</summary>
sealed class MidBlock : IDisposable
{
    public required ResnetBlock2D First { get; init; }
    public MidBlockAttention? Attention { get; init; }
    public required ResnetBlock2D Second { get; init; }

    public static MidBlock Load(ParameterLoader p, string prefix, VaeConfig c)
    {
        int channels = c.BlockOutChannels[^1];
        return new MidBlock
        {
            First = ResnetBlock2D.Load(p, prefix + ".resnets.0", channels, channels, c.NormGroups),
            Attention = c.MidBlockAttention ? MidBlockAttention.Load(p, prefix + ".attentions.0", channels, c.NormGroups) : null,
            Second = ResnetBlock2D.Load(p, prefix + ".resnets.1", channels, channels, c.NormGroups),
        };
    }

    /// <summary>A new buffer of x's shape; x is left as it was.</summary>
    public DeviceTensor Forward(ForwardContext context, DeviceTensor x, ImageShape shape)
    {
        var y = First.Forward(context, x, shape);
        if (Attention is not null) y = Activations.Replace(y, Attention.Forward(context, y, shape));
        return Activations.Replace(y, Second.Forward(context, y, shape));
    }

    public IEnumerable<Parameter> Parameters =>
        First.Parameters.Concat(Attention?.Parameters ?? []).Concat(Second.Parameters);

    public void Dispose() { First.Dispose(); Attention?.Dispose(); Second.Dispose(); }
}
