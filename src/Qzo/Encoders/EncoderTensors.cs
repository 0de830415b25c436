using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Encoders;

/// <summary>Host copies of an encoder's device outputs, for tests and checks.</summary>
public static class EncoderTensors
{
    /// <summary>The first <paramref name="count"/> values of <paramref name="tensor"/> (all when null), widened to fp32.</summary>
    public static float[] Download(IBackend backend, DeviceTensor tensor, long? count = null)
    {
        long n = count ?? tensor.Length;
        var values = new float[n];
        if (tensor.DType == DType.F32) { backend.Download<float>(tensor, values); return values; }
        var raw = new byte[n * tensor.DType.SizeInBytes()];
        backend.Download<byte>(tensor, raw);
        DTypes.ToSingle(tensor.DType, raw, values);
        return values;
    }
}
