using Qzo.Numerics;

namespace Qzo.Compute;

/// <summary>Tensors copied between a backend and fp32 host arrays, whatever their element type on the device.</summary>
public static class HostFloats
{
    /// <summary>The first <paramref name="count"/> values of <paramref name="x"/> (all when null), widened to fp32.</summary>
    public static float[] Download(IBackend backend, DeviceTensor x, long? count = null)
    {
        long n = count ?? x.Length;
        var values = new float[n];
        if (x.DType == DType.F32) { backend.Download<float>(x, values); return values; }
        var raw = new byte[n * x.DType.SizeInBytes()];
        backend.Download<byte>(x, raw);
        DTypes.ToSingle(x.DType, raw, values);
        return values;
    }

    /// <summary>A new tensor of the compute type holding <paramref name="values"/>, each rounded once.</summary>
    public static DeviceTensor Upload(IBackend backend, ReadOnlySpan<float> values, MemoryCategory category)
    {
        var x = backend.Allocate(backend.ComputeType, values.Length, category);
        if (x.DType == DType.F32) backend.Upload(x, values);
        else backend.Upload<byte>(x, DTypes.FromSingle(x.DType, values.ToArray()));
        return x;
    }
}
