using Qzo.IO;
using Qzo.Models;
using Qzo.Quantization.Gptq;

namespace Qzo.Quantization;

public static partial class CheckpointQuantizer
{
    /// <summary>
    /// Bytes of the tensors <see cref="QuantizeRtn"/> or <see cref="QuantizeGptq"/> will write (the safetensors headers aside).
    /// </summary>
    public static long EstimatedTensorBytes(Checkpoint source, GptqConfig config) =>
        source.Tensors.Names.SelectMany(name => Outputs(source, name, config)).Sum(o => o.Bytes);

    /// <summary>
    /// Bytes of the tensors <see cref="Quantize"/> will write with <paramref name="format"/> (the safetensors headers aside).
    /// </summary>
    public static long EstimatedTensorBytes(Checkpoint source, ILinearQuantizer format, Func<string, bool>? keepDense = null) =>
        source.Tensors.Names.Sum(name => OutputBytes(source, name, format, IsQuantizable(name) && keepDense?.Invoke(name) != true));

    static long OutputBytes(Checkpoint source, string name, ILinearQuantizer format, bool quantized)
    {
        var info = source.Tensors.Get(name);
        return quantized ? format.QuantizedBytes(info.Shape[0], info.Shape[^1]) : info.ByteLength;
    }

    /// <summary>
    /// Refuses, in one line with both figures, an output the disk cannot take, or a run whose largest shard (held whole until
    /// written) and largest weight (read as fp32) do not fit in memory. Calibration's own memory (GPTQ) is not counted.
    /// </summary>
    static void CheckBudget(Checkpoint source, string output, long tensorBytes, long largestShardBytes)
    {
        ResourceBudget.RequireDisk("quantize", "the quantized checkpoint", output, tensorBytes);
        double largestWeight = source.Tensors.Names.Where(IsQuantizable)
                                     .Select(n => (double)source.Tensors.Get(n).ElementCount).DefaultIfEmpty(0).Max();
        ResourceBudget.RequireHostMemory("quantize", "quantizing", largestShardBytes + largestWeight * sizeof(float));
    }
}
