using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>A quantized linear's weight as the backend dequantizes it, on the host (for checks against other implementations).</summary>
public static class DequantizedWeights
{
    /// <summary>The weight under <paramref name="p"/>, row-major [out, in] as float32 (what the backend's compute type held).</summary>
    public static float[] Of(IQuantizedLinear linear, IBackend backend, Perturbation p = default)
    {
        int outF = linear.OutFeatures, inF = linear.InFeatures;
        using var scratch = backend.Allocate(backend.ComputeType, (long)outF * inF, MemoryCategory.Workspace);
        linear.Dequantize(backend, p, scratch);
        var values = new float[(long)outF * inF];
        if (scratch.DType == DType.F32) backend.Download<float>(scratch, values);
        else
        {
            var raw = new byte[scratch.ByteLength];
            backend.Download<byte>(scratch, raw);
            DTypes.ToSingle(scratch.DType, raw, values);
        }
        if (linear.Layout == WeightLayout.OutputMajor) return values;
        var transposed = new float[values.Length];
        for (int i = 0; i < inF; i++)
            for (int o = 0; o < outF; o++) transposed[(long)o * inF + i] = values[(long)i * outF + o];
        return transposed;
    }
}
