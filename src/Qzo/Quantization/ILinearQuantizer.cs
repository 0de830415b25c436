using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Quantization;

/// <summary>One quantization format as <see cref="CheckpointQuantizer.Quantize"/> applies it to each decoder-layer linear.</summary>
public interface ILinearQuantizer
{
    /// <summary>e.g. "bitsandbytes nf4, block 64, double quant".</summary>
    string Description { get; }

    /// <summary>Bytes the quantized tensors of an [out, in] linear take (to plan shards).</summary>
    long QuantizedBytes(long outFeatures, long inFeatures);

    /// <summary>
    /// The tensors replacing <c>prefix.weight</c> (row-major [out, in], stored as <paramref name="sourceDType"/>), and the weight they
    /// decode to.
    /// </summary>
    (IReadOnlyList<TensorToWrite> Tensors, float[] Dequantized) Quantize(string prefix, float[] weight, int outFeatures, int inFeatures,
        DType sourceDType);

    /// <param name="unquantizedTensors">every tensor name of the output that is not part of a quantized linear</param>
    /// <param name="unquantizedLinears">the module names of linears left unquantized (lm_head always included)</param>
    JsonObject QuantizationConfig(IReadOnlyList<string> unquantizedTensors, IReadOnlyList<string> unquantizedLinears, DType sourceDType);
}

/// <summary>Relative reconstruction error ‖W − Ŵ‖ / ‖W‖ of every quantized linear.</summary>
public sealed record QuantizeReport(IReadOnlyList<(string Linear, double RelativeError)> Layers)
{
    public double MeanRelativeError => Layers.Count == 0 ? 0 : Layers.Average(l => l.RelativeError);
    public double MaxRelativeError => Layers.Count == 0 ? 0 : Layers.Max(l => l.RelativeError);

    public static double RelativeError(ReadOnlySpan<float> weight, ReadOnlySpan<float> dequantized)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < weight.Length; i++)
        {
            double d = (double)weight[i] - dequantized[i];
            error += d * d;
            norm += (double)weight[i] * weight[i];
        }
        return norm == 0 ? Math.Sqrt(error) : Math.Sqrt(error / norm);
    }
}
