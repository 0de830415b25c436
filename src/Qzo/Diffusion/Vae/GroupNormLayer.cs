using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>torch's nn.GroupNorm(groups, channels, eps 1e-6, affine) over an NCHW image.</summary>
sealed class GroupNormLayer(Parameter weight, Parameter bias, int groups) : IDisposable
{
    public Parameter Weight { get; } = weight;
    public Parameter Bias { get; } = bias;
    public int Channels => (int)Weight.Shape[0];

    public static GroupNormLayer Load(ParameterLoader p, string prefix, int channels, int groups) =>
        new(p.Dense(prefix + ".weight", [channels]), p.Dense(prefix + ".bias", [channels]), groups);

    /// <summary>y = GroupNorm(x); x and y may be one buffer.</summary>
    public void Forward(ForwardContext context, DeviceTensor x, ImageShape shape, DeviceTensor y) =>
        context.Backend.GroupNorm(x, context.ResolveVector(Weight), context.ResolveBias(Bias), y, shape.Batch, Channels, shape.Spatial,
                                  groups, VaeConfig.NormEps);

    public IEnumerable<Parameter> Parameters => [Weight, Bias];
    public void Dispose() { Weight.Dispose(); Bias.Dispose(); }
}
