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
/// the file header fixes up front, so the nested absmax (one byte per block) is computed when planned. The weight is read
/// into a buffer of <see cref="Bnb4BitLazyWork"/>, and the error summed on its lane while the writer goes on.
/// </summary>
public sealed class Bnb4BitLazyLinear
{
    /// <summary>Reads the weight as fp32, row-major [outFeatures, inFeatures], into a span of its length.</summary>
    public delegate void WeightReader(Span<float> destination);

    readonly WeightReader _readWeight;
    readonly Bnb4BitCheckpointFormat _format;
    readonly Bnb4BitLazyWork _work;
    readonly long _count;
    readonly NestedAbsmax? _nested;

    /// <param name="readWeight">called once per tensor that needs the weight</param>
    /// <param name="dtype">the weight's torch dtype name, the quant_state's "dtype"</param>
    /// <param name="quantized">told the relative reconstruction error ‖W − Ŵ‖/‖W‖ once the codes are made, on the lane of
    /// <paramref name="work"/>, linear after linear in the order their codes were made</param>
    public Bnb4BitLazyLinear(string prefix, WeightReader readWeight, long outFeatures, long inFeatures, Bnb4BitCheckpointFormat format,
                             string dtype, Bnb4BitLazyWork work, Action<string, double> quantized)
    {
        if (!Bnb4BitQuantState.SupportedBlockSizes.Contains(format.BlockSize))
            throw new QzoException($"block size {format.BlockSize} is not one bitsandbytes supports " +
                                   $"({string.Join(", ", Bnb4BitQuantState.SupportedBlockSizes)})");
        _readWeight = readWeight;
        _format = format;
        _work = work;
        long count = _count = outFeatures * inFeatures;
        int blocks = (int)((count + format.BlockSize - 1) / format.BlockSize);
        var state = new Bnb4BitQuantState(format.Type, format.BlockSize, dtype, [outFeatures, inFeatures]);
        if (format.DoubleQuant)
        {
            _nested = NestedAbsmax.Encode(Absmax());
            state = state with { NestedBlockSize = _nested.BlockSize, NestedDType = "float32", NestedOffset = _nested.Offset };
        }
        var code = FourBitCode.For(format.Type).Values.ToArray();
        var tensors = new List<LazyTensorToWrite>
        {
            new(prefix + ".weight", DType.U8, [(count + 1) / 2, 1], () => Codes(prefix, code, quantized)),
            _nested is null
                ? new(prefix + Bnb4BitLinearTensors.AbsmaxSuffix, DType.F32, [blocks], () => Bytes(Absmax()))
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

    float[] Absmax()
    {
        var buffer = _work.RentWeight(_count);
        try
        {
            var weight = buffer.AsSpan(0, (int)_count);
            _readWeight(weight);
            return BlockAbsmax.Of(weight, _format.BlockSize);
        }
        finally { _work.ReturnWeight(buffer); }
    }

    /// <summary>The packed codes; the buffer goes with the error's sum to the lane, which gives it back.</summary>
    byte[] Codes(string prefix, float[] code, Action<string, double> quantized)
    {
        var buffer = _work.RentWeight(_count);
        bool handedOn = false;
        try
        {
            int count = (int)_count, blockSize = _format.BlockSize;
            var weight = buffer.AsSpan(0, count);
            _readWeight(weight);
            var (packed, absmax) = Bnb4BitQuantizer.Quantize(weight, _format.Type, blockSize);
            var used = _nested?.Decode() ?? absmax;
            _work.Then(() =>
            {
                try { quantized(prefix, Bnb4BitReference.RelativeError(buffer.AsSpan(0, count), packed, used, code, blockSize)); }
                finally { _work.ReturnWeight(buffer); }
            });
            handedOn = true;
            return packed;
        }
        finally
        {
            if (!handedOn) _work.ReturnWeight(buffer);
        }
    }

    static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
