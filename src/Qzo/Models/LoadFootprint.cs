using Qzo.Compute;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Models;

/// <summary>
/// The device memory <see cref="ModelLoader"/> will allocate for a checkpoint, from its tensor infos alone (nothing is read),
/// following what <see cref="ParameterLoader"/> and the quantized loaders keep on the backend: float tensors in the backend's
/// compute type (fp32 masters where they train), quantization scales as fp32 masters, packed codes as stored, AQLM codebooks
/// as fp16. Host-only tensors (bitsandbytes' quant_state and nested tables, RoPE caches, an ignored tied lm_head) count
/// nothing, so the figure is a lower bound of what loading allocates.
/// </summary>
public static class LoadFootprint
{
    public static double Bytes(Checkpoint checkpoint, DType computeType, TrainingScope scope)
    {
        bool mastersForAll = scope is TrainingScope.AllWeights or TrainingScope.ScalesAndUnquantized;
        double floatBytes = mastersForAll ? sizeof(float) : computeType.SizeInBytes();
        double total = 0;
        foreach (var name in checkpoint.Tensors.Names)
        {
            if (checkpoint.Config.TieWordEmbeddings && name == "lm_head.weight") continue;
            var info = checkpoint.Tensors.Get(name);
            total += DeviceBytes(info, floatBytes);
        }
        return total;
    }

    static double DeviceBytes(TensorInfo info, double floatBytes)
    {
        string name = info.Name;
        if (name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)
            || name.Contains(Bnb4BitQuantState.TensorInfix, StringComparison.Ordinal)
            || name.EndsWith(Bnb4BitLinearTensors.NestedAbsmaxSuffix, StringComparison.Ordinal)
            || name.EndsWith(Bnb4BitLinearTensors.NestedQuantMapSuffix, StringComparison.Ordinal)) return 0;
        double elements = info.ElementCount;
        if (name.EndsWith(".scales", StringComparison.Ordinal) || name.EndsWith(Bnb4BitLinearTensors.AbsmaxSuffix, StringComparison.Ordinal)
            || name.EndsWith(Bnb4BitLinearTensors.QuantMapSuffix, StringComparison.Ordinal)) return elements * sizeof(float);
        if (name.EndsWith(".codebooks", StringComparison.Ordinal)) return elements * 2;
        return info.DType.IsFloat() ? elements * floatBytes : info.ByteLength;
    }

    /// <summary>Refuses, in one line with both figures, a model the backend's device has too little free memory for.</summary>
    public static void Check(Checkpoint checkpoint, IBackend backend, TrainingScope scope) =>
        ResourceBudget.RequireDeviceMemory("loading", "the model", backend, Bytes(checkpoint, backend.ComputeType, scope));
}
