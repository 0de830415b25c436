using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// diffusers' ResnetBlock2D as the VAE builds it (no time embedding, output_scale_factor 1, no dropout at inference):
/// y = conv2(silu(norm2(conv1(silu(norm1(x)))))) + shortcut(x), where shortcut is a 1×1 conv when the channel count
/// changes and the identity otherwise.
/// </summary>
sealed class ResnetBlock2D : IDisposable
{
    public required GroupNormLayer Norm1 { get; init; }
    public required Conv2dLayer Conv1 { get; init; }
    public required GroupNormLayer Norm2 { get; init; }
    public required Conv2dLayer Conv2 { get; init; }
    public Conv2dLayer? ConvShortcut { get; init; }

    public int OutChannels => Conv2.OutChannels;

    public static ResnetBlock2D Load(ParameterLoader p, string prefix, int cIn, int cOut, int groups) => new()
    {
        Norm1 = GroupNormLayer.Load(p, prefix + ".norm1", cIn, groups),
        Conv1 = Conv2dLayer.Load(p, prefix + ".conv1", cIn, cOut, 3),
        Norm2 = GroupNormLayer.Load(p, prefix + ".norm2", cOut, groups),
        Conv2 = Conv2dLayer.Load(p, prefix + ".conv2", cOut, cOut, 3),
        ConvShortcut = cIn != cOut ? Conv2dLayer.Load(p, prefix + ".conv_shortcut", cIn, cOut, 1) : null,
    };

    /// <summary>The block's output, a new buffer of shape x with <see cref="OutChannels"/>; x is left as it was.</summary>
    public DeviceTensor Forward(ForwardContext context, DeviceTensor x, ImageShape shape)
    {
        var backend = context.Backend;
        var outShape = shape.WithChannels(OutChannels);
        DeviceTensor hidden;
        using (var normed = Activations.New(backend, shape.Count))
        {
            Norm1.Forward(context, x, shape, normed);
            Activations.Silu(backend, normed, shape.Count);
            hidden = Conv1.Forward(context, normed, shape);
        }
        using (hidden)
        {
            Norm2.Forward(context, hidden, outShape, hidden);
            Activations.Silu(backend, hidden, outShape.Count);
            var y = Conv2.Forward(context, hidden, outShape);
            if (ConvShortcut is null) backend.AddInPlace(y, x, outShape.Count);
            else
            {
                ConvShortcut.Forward(context, x, shape, hidden); // hidden is free again and has the output's size
                backend.AddInPlace(y, hidden, outShape.Count);
            }
            return y;
        }
    }

    public IEnumerable<Parameter> Parameters =>
        Norm1.Parameters.Concat(Conv1.Parameters).Concat(Norm2.Parameters).Concat(Conv2.Parameters)
            .Concat(ConvShortcut?.Parameters ?? []);

    public void Dispose()
    {
        Norm1.Dispose(); Conv1.Dispose(); Norm2.Dispose(); Conv2.Dispose(); ConvShortcut?.Dispose();
    }
}
