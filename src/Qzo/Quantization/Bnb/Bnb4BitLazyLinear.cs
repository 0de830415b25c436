using System.Runtime.InteropServices;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// The tensors of one bitsandbytes 4-bit linear, named, typed and shaped as <see cref="Bnb4BitLinearTensors.ToTensors"/>
/// writes them (the same bytes), each made only when a writer reaches it: a safetensors file orders its tensors by
/// dtype, so a linear's F32 absmax and its U8 codes are written far apart and holding every linear's quantized codes
/// until then would hold the whole quantized model. The packed codes are encoded when written; the absmax is recomputed
/// from the weight when written. Double quantization needs the nested offset in the quant_state JSON, whose length
/// the file header fixes up front, so the nested absmax (one byte per block) is computed when planned.
/// </summary>
public sealed class Bnb4BitLazyLinear
{
    readonly Func<float[]> _readWeight;
    readonly Bnb4BitCheckpointFormat _format;
    readonly NestedAbsmax? _nested;

    /// <param name="readWeight">the weight as fp32, row-major [outFeatures, inFeatures]; called once per tensor that needs it</param>
    /// <param name="dtype">the weight's torch dtype name, the quant_state's "dtype"</param>
    /// <param name="quantized">told the relative reconstruction error ‖W − Ŵ‖/‖W‖ once the codes are made</param>
    public Bnb4BitLazyLinear(string prefix, Func<float[]> readWeight, long outFeatures, long inFeatures, Bnb4BitCheckpointFormat format,
                             string dtype, Action<string, double> quantized)
    {
        if (!Bnb4BitQuantState.SupportedBlockSizes.Contains(format.BlockSize))
            throw new QzoException($"block size {format.BlockSize} is not one bitsandbytes supports " +
                                   $"({string.Join(", ", Bnb4BitQuantState.SupportedBlockSizes)})");
        _readWeight = readWeight;
        _format = format;
        long count = outFeatures * inFeatures;
        int blocks = (int)((count + format.BlockSize - 1) / format.BlockSize);
        var state = new Bnb4BitQuantState(format.Type, format.BlockSize, dtype, [outFeatures, inFeatures]);
        if (format.DoubleQuant)
        {
            _nested = NestedAbsmax.Encode(BlockAbsmax.Of(readWeight(), format.BlockSize));
            state = state with { NestedBlockSize = _nested.BlockSize, NestedDType = "float32", NestedOffset = _nested.Offset };
        }
        var code = FourBitCode.For(format.Type).Values.ToArray();
        var tensors = new List<LazyTensorToWrite>
        {
            new(prefix + ".weight", DType.U8, [(count + 1) / 2, 1], () => Codes(prefix, count, code, quantized)),
            _nested is null
                ? new(prefix + Bnb4BitLinearTensors.AbsmaxSuffix, DType.F32, [blocks], () => Bytes(BlockAbsmax.Of(_readWeight(),
                    _format.BlockSize)))
                : new(prefix + Bnb4BitLinearTensors.AbsmaxSuffix, DType.U8, [blocks], () => _nested.Codes),
            new(prefix + Bnb4BitLinearTensors.QuantMapSuffix, DType.F32, [16], () => Bytes(code)),
        };
        if (_nested is not null)
        {
            tensors.Add(new(prefix + Bnb4BitLinearTensors.NestedAbsmaxSuffix, DType.F32, [_nested.Absmax.Length],
                            () => Bytes(_nested.Absmax)));
            tensors.Add(new(prefix + Bnb4BitLinearTensors.NestedQuantMapSuffix, DType.F32, [_nested.Map.Length], () => Bytes(_nested.Map)));
        }
        var json = state.ToJsonBytes();
        tensors.Add(new(Bnb4BitQuantState.TensorName(prefix, format.Type), DType.U8, [json.Length], () => json));
        Tensors = tensors;
    }

    public IReadOnlyList<LazyTensorToWrite> Tensors { get; }

    byte[] Codes(string prefix, long count, float[] code, Action<string, double> quantized)
    {
        var weight = _readWeight();
        var (packed, absmax) = Bnb4BitQuantizer.Quantize(weight, _format.Type, _format.BlockSize);
        var dequantized = Bnb4BitReference.Dequantize(packed, _nested?.Decode() ?? absmax, code, _format.BlockSize, count);
        quantized(prefix, QuantizeReport.RelativeError(weight, dequantized));
        return packed;
    }

    static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
