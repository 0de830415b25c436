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
/// chunk by chunk into the buffer of <see cref="Bnb4BitLazyWork"/> as the parallel encoder reaches each chunk, and the
/// error is summed in the background while the writer goes on.
/// </summary>
public sealed class Bnb4BitLazyLinear
{
    /// <summary>Reads values [start, start + destination.Length) of the weight as fp32, row-major [outFeatures, inFeatures].</summary>
    public delegate void WeightReader(long start, Span<float> destination);

    readonly WeightReader _readWeight;
    readonly Bnb4BitCheckpointFormat _format;
    readonly Bnb4BitLazyWork _work;
    readonly long _count;
    readonly NestedAbsmax? _nested;

    /// <param name="readWeight">called once per tensor that needs the weight</param>
    /// <param name="dtype">the weight's torch dtype name, the quant_state's "dtype"</param>
    /// <param name="quantized">told the relative reconstruction error ‖W − Ŵ‖/‖W‖ once the codes are made and the error summed,
    /// from <paramref name="work"/>'s background work, linear after linear in the order their codes were made</param>
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
            return BlockAbsmax.Of(buffer.AsSpan(0, (int)_count), _format.BlockSize, Reading(buffer));
        }
        finally { _work.ReturnWeight(buffer); }
    }

    /// <summary>Reads a chunk of the weight into the buffer as the parallel chunk that works on it reaches it.</summary>
    BlockRanges.Fill Reading(float[] buffer) => (start, end) => _readWeight(start, buffer.AsSpan(start, end - start));

    /// <summary>
    /// The packed codes. The error is summed in the background (<see cref="Bnb4BitLazyWork.Then{T}"/>), reading the weight
    /// again a chunk at a time, so that the buffer is free for the next tensor at once.
    /// </summary>
    byte[] Codes(string prefix, float[] code, Action<string, double> quantized)
    {
        var buffer = _work.RentWeight(_count);
        byte[] packed;
        float[] absmax;
        try
        {
            (packed, absmax) = Bnb4BitQuantizer.Quantize(buffer.AsSpan(0, (int)_count), _format.Type, _format.BlockSize, Reading(buffer));
        }
        finally { _work.ReturnWeight(buffer); }
        var used = _nested?.Decode() ?? absmax;
        _work.Then(() => RelativeError(packed, used, code), error => quantized(prefix, error));
        return packed;
    }

    /// <summary>Values read and summed per chunk: a whole number of blocks of every supported size.</summary>
    const int SumChunk = 1 << 16;

    double RelativeError(byte[] packed, float[] absmax, float[] code)
    {
        int count = (int)_count;
        var sums = new Bnb4BitReference.ErrorSums(packed, absmax, code, _format.BlockSize, count);
        var chunk = new float[Math.Min(SumChunk, count)];
        for (int start = 0; start < count; start += chunk.Length)
        {
            var values = chunk.AsSpan(0, Math.Min(chunk.Length, count - start));
            _readWeight(start, values);
            sums.Add(start, values);
        }
        return sums.RelativeError;
    }

    static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
