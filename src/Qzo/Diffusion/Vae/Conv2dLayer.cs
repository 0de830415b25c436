using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>torch's nn.Conv2d with a bias: weight [cOut, cIn, k, k], a fixed stride and zero padding.</summary>
sealed class Conv2dLayer(Parameter weight, Parameter bias, int stride, Padding2d padding) : IDisposable
{
    public Parameter Weight { get; } = weight;
    public Parameter Bias { get; } = bias;
    public int OutChannels => (int)Weight.Shape[0];
    public int InChannels => (int)Weight.Shape[1];
    public int Kernel => (int)Weight.Shape[2];

    /// <summary>A k×k convolution that keeps the size (stride 1, padding k/2), as every VAE conv but the downsampler.</summary>
    public static Conv2dLayer Load(ParameterLoader p, string prefix, int cIn, int cOut, int kernel) =>
        Load(p, prefix, cIn, cOut, kernel, stride: 1, Padding2d.Same(kernel / 2));

    public static Conv2dLayer Load(ParameterLoader p, string prefix, int cIn, int cOut, int kernel, int stride, Padding2d padding) =>
        new(p.Dense(prefix + ".weight", [cOut, cIn, kernel, kernel]), p.Dense(prefix + ".bias", [cOut]), stride, padding);

    public ImageShape OutputShape(ImageShape x) => new(x.Batch, OutChannels,
        (x.Height + padding.Top + padding.Bottom - Kernel) / stride + 1, (x.Width + padding.Left + padding.Right - Kernel) / stride + 1);

    /// <summary>y = conv(x) into a new activation buffer of <see cref="OutputShape"/>.</summary>
    public DeviceTensor Forward(ForwardContext context, DeviceTensor x, ImageShape shape)
    {
        var y = Activations.New(context.Backend, OutputShape(shape).Count);
        Forward(context, x, shape, y);
        return y;
    }

    public void Forward(ForwardContext context, DeviceTensor x, ImageShape shape, DeviceTensor y)
    {
        if (shape.Channels != InChannels) throw new InvalidOperationException($"{Weight.Name}: input has {shape.Channels} channels");
        context.Backend.Conv2d(x, context.Resolve(Weight), context.ResolveBias(Bias), y, shape.Batch, InChannels, shape.Height,
                               shape.Width, OutChannels, Kernel, stride, padding);
    }

    public IEnumerable<Parameter> Parameters => [Weight, Bias];
    public void Dispose() { Weight.Dispose(); Bias.Dispose(); }
}
