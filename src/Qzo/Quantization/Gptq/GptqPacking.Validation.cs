using Qzo.Numerics;

namespace Qzo.Quantization.Gptq;

public static partial class GptqPacking
{
    /// <summary>
    /// Checks a loaded layer's tensors against its expected in/out features, bits and group size:
    /// qweight I32 [in·bits/32, out], qzeros I32 [groups, out·bits/32], scales F16/BF16 [groups, out], g_idx I32 [in]
    /// (g_idx may be absent: old checkpoints without act-order). Returns the number of groups.
    /// </summary>
    public static int ValidateShapes(
        int inFeatures, int outFeatures, int bits, int groupSize,
        GptqTensorInfo qweight, GptqTensorInfo qzeros, GptqTensorInfo scales, GptqTensorInfo? gIdx)
    {
        CheckBits(bits);
        CheckPackable(inFeatures, bits, "in_features", qweight.Name);
        CheckPackable(outFeatures, bits, "out_features", qzeros.Name);
        int groups = GroupCount(inFeatures, groupSize);
        string layer = $"(in_features {inFeatures}, out_features {outFeatures}, {bits} bits, group_size {groupSize})";

        Expect(qweight, [DType.I32], [inFeatures * (long)bits / 32, outFeatures], layer);
        Expect(qzeros, [DType.I32], [groups, outFeatures * (long)bits / 32], layer);
        Expect(scales, [DType.F16, DType.BF16], [groups, outFeatures], layer);
        if (gIdx is not null) Expect(gIdx, [DType.I32], [inFeatures], layer);
        return groups;
    }

    /// <summary>Every g_idx entry must name an existing group.</summary>
    public static void ValidateGIdx(ReadOnlySpan<int> gIdx, int groups, string tensorName)
    {
        for (int i = 0; i < gIdx.Length; i++)
            if ((uint)gIdx[i] >= (uint)groups)
                throw new QzoException($"{tensorName}[{i}] = {gIdx[i]} is not a group index (the layer has {groups} groups)");
    }

    static void Expect(GptqTensorInfo tensor, DType[] dtypes, long[] shape, string layer)
    {
        if (!dtypes.Contains(tensor.DType))
            throw new QzoException(
                $"{tensor.Name} has dtype {tensor.DType.Name()}, expected {string.Join(" or ", dtypes.Select(d => d.Name()))}");
        if (!tensor.Shape.SequenceEqual(shape))
            throw new QzoException($"{tensor.Name} has shape {tensor.ShapeText}, expected [{string.Join(", ", shape)}] {layer}");
    }
}
