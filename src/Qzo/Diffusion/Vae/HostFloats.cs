using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Diffusion.Vae;

/// <summary>Small tensors (latents, posteriors) copied between the device and fp32 host arrays.</summary>
static class HostFloats
{
    public static float[] Download(IBackend backend, DeviceTensor x, long count)
    {
        var values = new float[count];
        if (x.DType == DType.F32) { backend.Download<float>(x, values); return values; }
        var raw = new byte[count * x.DType.SizeInBytes()];
        backend.Download<byte>(x, raw);
        DTypes.ToSingle(x.DType, raw, values);
        return values;
    }

    /// <summary>A new activation buffer in the compute type holding <paramref name="values"/> (rounded once).</summary>
    public static DeviceTensor Upload(IBackend backend, float[] values)
    {
        var x = Activations.New(backend, values.Length);
        if (x.DType == DType.F32) backend.Upload<float>(x, values);
        else backend.Upload<byte>(x, DTypes.FromSingle(x.DType, values));
        return x;
    }
}
