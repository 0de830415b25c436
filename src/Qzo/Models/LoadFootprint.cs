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
public static partial class LoadFootprint
{
    /// <param name="part">a pipeline rank's share (<see cref="Holds"/>); null: the whole model.</param>
    public static double Bytes(Checkpoint checkpoint, DType computeType, TrainingScope scope, ModelPart? part = null)
    {
        bool mastersForAll = scope is TrainingScope.AllWeights or TrainingScope.ScalesAndUnquantized;
        double floatBytes = mastersForAll ? sizeof(float) : computeType.SizeInBytes();
        double total = 0;
        foreach (var name in checkpoint.Tensors.Names)
        {
            if (checkpoint.Config.TieWordEmbeddings && name == "lm_head.weight") continue;
            if (part is not null && !Holds(part, name, checkpoint.Config.TieWordEmbeddings)) continue;
            var info = checkpoint.Tensors.Get(name);
            total += DeviceBytes(info, floatBytes);
        }
        return total;
    }

    /// <summary>
    /// Whether a pipeline rank's part loads tensor <paramref name="name"/>, by its name alone: a layer's tensors (…layers.N.…)
    /// by N; the embeddings (and OPT's project_in) at the input end, and the tied embedding at the output end too; any other
    /// tensor outside the layers (final norm, project_out, lm_head) at the output end.
    /// </summary>
    public static bool Holds(ModelPart part, string name, bool tiedHead)
    {
        var layer = LayerIndex().Match(name);
        if (layer.Success)
        {
            int index = int.Parse(layer.Groups[1].ValueSpan);
            return index >= part.FirstLayer && index < part.EndLayer;
        }
        bool input = name.Contains("embed", StringComparison.Ordinal) || name.Contains("project_in", StringComparison.Ordinal);
        if (!input) return part.HoldsHead;
        return part.HoldsEmbedding || part.HoldsHead && tiedHead && name.Contains("embed_tokens", StringComparison.Ordinal);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(?:^|\.)layers\.(\d+)\.")]
    private static partial System.Text.RegularExpressions.Regex LayerIndex();

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
    public static void Check(Checkpoint checkpoint, IBackend backend, TrainingScope scope, ModelPart? part = null) =>
        ResourceBudget.RequireDeviceMemory("loading", part is null ? "the model" : $"this rank's part ({part})", backend,
            Bytes(checkpoint, backend.ComputeType, scope, part));
}
