using System.Runtime.InteropServices;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// One bitsandbytes 4-bit linear as Linear4bit saves it (weight plus QuantState.as_dict(packed=True), prefixed
/// "weight."): <c>P.weight</c> U8 [ceil(n/2), 1]; <c>P.weight.absmax</c> F32 [blocks], or U8 [blocks] when
/// double-quantized, with <c>P.weight.nested_absmax</c> F32 and <c>P.weight.nested_quant_map</c> F32 [256];
/// <c>P.weight.quant_map</c> F32 [16]; <c>P.weight.quant_state.bitsandbytes__nf4|fp4</c> (JSON bytes).
/// </summary>
/// <param name="Absmax">fp32 per block when not double-quantized, else null</param>
public sealed record Bnb4BitLinearTensors(Bnb4BitQuantState State, byte[] Packed, float[]? Absmax, NestedAbsmax? Nested)
{
    public const string AbsmaxSuffix = ".weight.absmax", QuantMapSuffix = ".weight.quant_map",
                        NestedAbsmaxSuffix = ".weight.nested_absmax", NestedQuantMapSuffix = ".weight.nested_quant_map";

    public long Count => State.Shape.Aggregate(1L, (a, b) => a * b);
    public int Blocks => (int)((Count + State.BlockSize - 1) / State.BlockSize);

    /// <summary>The fp32 absmax per block that dequantization uses (decoded from the nested form when double-quantized).</summary>
    public float[] AbsmaxValues() => Nested?.Decode() ?? Absmax!;

    /// <param name="weight">row-major [outFeatures, inFeatures]</param>
    /// <param name="dtype">the weight's torch dtype name (bfloat16, float16, float32): dequantization casts back to it</param>
    public static Bnb4BitLinearTensors Quantize(ReadOnlySpan<float> weight, long outFeatures, long inFeatures, FourBitType type,
                                                int blockSize, bool doubleQuant, string dtype)
    {
        var (packed, absmax) = Bnb4BitQuantizer.Quantize(weight, type, blockSize);
        var state = new Bnb4BitQuantState(type, blockSize, dtype, [outFeatures, inFeatures]);
        if (!doubleQuant) return new Bnb4BitLinearTensors(state, packed, absmax, null);
        var nested = NestedAbsmax.Encode(absmax);
        return new Bnb4BitLinearTensors(state with { NestedBlockSize = nested.BlockSize, NestedDType = "float32",
            NestedOffset = nested.Offset },
                                        packed, null, nested);
    }

    public IEnumerable<TensorToWrite> ToTensors(string prefix)
    {
        yield return new(prefix + ".weight", DType.U8, [Packed.Length, 1], Packed);
        yield return Nested is null
            ? new(prefix + AbsmaxSuffix, DType.F32, [Absmax!.Length], Bytes(Absmax))
            : new(prefix + AbsmaxSuffix, DType.U8, [Nested.Codes.Length], Nested.Codes);
        yield return new(prefix + QuantMapSuffix, DType.F32, [16], Bytes(FourBitCode.For(State.QuantType).Values.ToArray()));
        if (Nested is not null)
        {
            yield return new(prefix + NestedAbsmaxSuffix, DType.F32, [Nested.Absmax.Length], Bytes(Nested.Absmax));
            yield return new(prefix + NestedQuantMapSuffix, DType.F32, [Nested.Map.Length], Bytes(Nested.Map));
        }
        var json = State.ToJsonBytes();
        yield return new(Bnb4BitQuantState.TensorName(prefix, State.QuantType), DType.U8, [json.Length], json);
    }

    static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
