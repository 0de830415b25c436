using Qzo.IO;

namespace Qzo.Quantization;

/// <summary>A checkpoint's quantization_config, whatever the method (GPTQ, AQLM, bitsandbytes).</summary>
public interface IQuantizationConfig
{
    /// <summary>quantization_config's quant_method: "gptq", "aqlm" or "bitsandbytes".</summary>
    string QuantMethod { get; }

    /// <summary>One line for `qzo inspect`, starting with the method's name.</summary>
    string Description { get; }

    /// <summary>What a checkpoint tensor is to this method: part of a quantized weight, a trainable scale, or neither.</summary>
    QuantizedTensorRole RoleOf(CheckpointTensors tensors, string name);

    /// <summary>How many weights the checkpoint's quantized linears hold (out·in summed).</summary>
    long QuantizedWeightCount(CheckpointTensors tensors);
}

public enum QuantizedTensorRole
{
    /// <summary>An ordinary tensor (embeddings, norms, biases, unquantized linears).</summary>
    Unquantized,
    /// <summary>Frozen codes and their bookkeeping (packed words, zero points, codebooks, lookup tables).</summary>
    Frozen,
    /// <summary>The continuous scale QZO trains.</summary>
    Scale,
}
