using Qzo.IO;

namespace Qzo.Quantization.Gptq;

public sealed partial record GptqConfig : IQuantizationConfig
{
    public string Description =>
        $"GPTQ {Bits}-bit, group {GroupSize}, {(Sym ? "sym" : "asym")}, desc_act {DescAct}, format {Format.ConfigName()}";

    public QuantizedTensorRole RoleOf(CheckpointTensors tensors, string name) =>
        name.EndsWith(".qweight", StringComparison.Ordinal) || name.EndsWith(".qzeros", StringComparison.Ordinal) ||
        name.EndsWith(".g_idx", StringComparison.Ordinal) ? QuantizedTensorRole.Frozen
        : name.EndsWith(".scales", StringComparison.Ordinal) && tensors.Contains(name[..^".scales".Length] + ".qweight")
            ? QuantizedTensorRole.Scale
        : QuantizedTensorRole.Unquantized;

    public long QuantizedWeightCount(CheckpointTensors tensors) =>
        tensors.Names.Where(n => n.EndsWith(".qweight", StringComparison.Ordinal)).Sum(n => tensors.Get(n).ElementCount * 32 / Bits);
}
