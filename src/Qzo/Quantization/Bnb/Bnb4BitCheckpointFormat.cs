using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// `qzo quantize --method nf4`: bitsandbytes 4-bit linears (NF4 or FP4, optional double quantization) and transformers' BitsAndBytesConfig.
/// </summary>
public sealed record Bnb4BitCheckpointFormat(FourBitType Type = FourBitType.Nf4, int BlockSize = 64, bool DoubleQuant = false)
    : ILinearQuantizer
{
    public string Description => $"bitsandbytes {Type.Name()}, block {BlockSize}{(DoubleQuant ? ", double quant" : "")}";

    public long QuantizedBytes(long outFeatures, long inFeatures)
    {
        long n = outFeatures * inFeatures, blocks = (n + BlockSize - 1) / BlockSize;
        return (n + 1) / 2 + (DoubleQuant ? blocks + (blocks + 255) / 256 * 4 + 1024 : blocks * 4) + 64 + 200;
    }

    public (IReadOnlyList<TensorToWrite> Tensors, float[] Dequantized) Quantize(string prefix, float[] weight, int outFeatures,
        int inFeatures, DType sourceDType)
    {
        if (!Bnb4BitQuantState.SupportedBlockSizes.Contains(BlockSize))
            throw new QzoException(
                $"block size {BlockSize} is not one bitsandbytes supports ({string.Join(", ", Bnb4BitQuantState.SupportedBlockSizes)})");
        var linear = Bnb4BitLinearTensors.Quantize(weight, outFeatures, inFeatures, Type, BlockSize, DoubleQuant, TorchName(sourceDType));
        var dequantized = Bnb4BitReference.Dequantize(linear.Packed, linear.AbsmaxValues(), FourBitCode.For(Type).Values, BlockSize,
            linear.Count);
        return (linear.ToTensors(prefix).ToList(), dequantized);
    }

    public JsonObject QuantizationConfig(IReadOnlyList<string> unquantizedTensors, IReadOnlyList<string> unquantizedLinears,
        DType sourceDType) =>
        new BitsAndBytesConfig(Type, DoubleQuant, TorchName(sourceDType), unquantizedLinears).ToJson();

    static string TorchName(DType dtype) => dtype switch
    {
        DType.BF16 => "bfloat16",
        DType.F16 => "float16",
        DType.F32 => "float32",
        _ => throw new QzoException($"cannot quantize a {dtype.Name()} weight (expected bf16, fp16 or fp32)"),
    };
}
