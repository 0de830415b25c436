using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Quantization.Aqlm;

/// <summary>`qzo quantize --method aqlm`: <see cref="AqlmQuantizer"/> per linear, and the AqlmConfig transformers reads.</summary>
public sealed record AqlmCheckpointFormat(AqlmScheme Scheme, AqlmQuantizerOptions? Options = null) : ILinearQuantizer
{
    public string Description => $"AQLM {Scheme.Name}, in-group {Scheme.InGroupSize}";

    public long QuantizedBytes(long outFeatures, long inFeatures) =>
        outFeatures / Scheme.OutGroupSize * (inFeatures / Scheme.InGroupSize) * Scheme.Codebooks * Scheme.CodeDType.SizeInBytes()
        + (long)Scheme.Codebooks * Scheme.CodebookSize * Scheme.OutGroupSize * Scheme.InGroupSize * 2
            + outFeatures / Scheme.OutGroupSize * 2;

    public (IReadOnlyList<TensorToWrite> Tensors, float[] Dequantized) Quantize(string prefix, float[] weight, int outFeatures,
        int inFeatures, DType sourceDType)
    {
        var linear = AqlmQuantizer.Quantize(weight, outFeatures, inFeatures, Scheme, Options);
        return (linear.ToTensors(prefix).ToList(), linear.Dequantize());
    }

    /// <summary>linear_weights_not_to_quantize lists every other tensor and lm_head.weight, as AQLM's convert_to_hf does.</summary>
    public JsonObject QuantizationConfig(IReadOnlyList<string> unquantizedTensors, IReadOnlyList<string> unquantizedLinears,
        DType sourceDType)
    {
        var skip = unquantizedTensors.Concat(unquantizedLinears.Select(m => m + ".weight")).Distinct().ToList();
        return new AqlmConfig(Scheme, skip).ToJson();
    }
}
