using Qzo.IO;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Gptq;

namespace Qzo.Models;

/// <summary>Which quantized format a linear's tensors are stored in, told apart by the tensor each format alone writes.</summary>
static class QuantizedLinearLoaders
{
    public delegate ILinear Loader(ParameterLoader p, string prefix, int inFeatures, int outFeatures, Parameter? bias);

    /// <summary>The loader for the linear under <paramref name="prefix"/>, or null when it is stored unquantized.</summary>
    public static Loader? For(CheckpointTensors tensors, string prefix) =>
        tensors.Contains(prefix + ".qweight") ? GptqLinearLoader.Load
        : tensors.Contains(prefix + ".codes") ? AqlmLinearLoader.Load
        : tensors.Contains(prefix + Bnb4BitLinearTensors.AbsmaxSuffix) ? Bnb4BitLinearLoader.Load
        : null;
}
