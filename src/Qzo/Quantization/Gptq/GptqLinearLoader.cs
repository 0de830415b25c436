using Qzo.Compute;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;

namespace Qzo.Quantization.Gptq;

/// <summary>A GPTQ linear (docs/formats.md §4): qweight, qzeros, scales and g_idx, checked against config.json's shapes.</summary>
static class GptqLinearLoader
{
    public static ILinear Load(ParameterLoader p, string prefix, int inFeatures, int outFeatures, Parameter? bias)
    {
        var gptq = p.Checkpoint.Gptq ?? throw new QzoException(
            $"{p.FileOf(prefix + ".qweight")}: '{prefix}.qweight' is GPTQ-packed but config.json has no GPTQ quantization_config and " +
                "there is no quantize_config.json");
        int bits = gptq.Bits;
        int groupSize = gptq.EffectiveGroupSize(inFeatures);
        int groups = (inFeatures + groupSize - 1) / groupSize;
        if (inFeatures * bits % 32 != 0 || outFeatures * bits % 32 != 0)
            throw new QzoException(
                $"{p.FileOf(prefix + ".qweight")}: '{prefix}' has {inFeatures} inputs and {outFeatures} outputs, which {bits}-bit GPTQ " +
                "cannot pack into 32-bit words");

        var tensors = p.Checkpoint.Tensors;
        p.CheckShape(p.Require(prefix + ".qweight"), [inFeatures * bits / 32, outFeatures], DType.I32);
        p.CheckShape(p.Require(prefix + ".qzeros"), [groups, outFeatures * bits / 32], DType.I32);
        p.CheckShape(p.Require(prefix + ".scales"), [groups, outFeatures]);

        int[] gIdx;
        if (tensors.Contains(prefix + ".g_idx"))
        {
            p.CheckShape(p.Require(prefix + ".g_idx"), [inFeatures], DType.I32);
            gIdx = tensors.ReadInt32(prefix + ".g_idx");
            for (int i = 0; i < gIdx.Length; i++)
                if ((uint)gIdx[i] >= (uint)groups)
                    throw new QzoException(
                        $"{p.FileOf(prefix + ".g_idx")}: '{prefix}.g_idx'[{i}] = {gIdx[i]} is not a group of this layer (0..{groups - 1})");
        }
        else gIdx = GptqPacking.DefaultGIdx(inFeatures, groupSize);

        var qweight = p.UploadInts(tensors.ReadInt32(prefix + ".qweight"), MemoryCategory.QuantizedWeights);
        var qzeros = p.UploadInts(tensors.ReadInt32(prefix + ".qzeros"), MemoryCategory.QuantizedWeights);
        var gIdxTensor = p.UploadInts(gIdx, MemoryCategory.QuantizedWeights);
        var scales = p.Dense(prefix + ".scales", [groups, outFeatures], isScale: true);
        var shape = new GptqKernelShape(inFeatures, outFeatures, groups, bits, gptq.Format == GptqCheckpointFormat.Gptq,
                                        GptqKernelShape.SequentialGroupSizeOf(gIdx, groupSize));
        return new GptqLinear(prefix, qweight, qzeros, gIdxTensor, scales, bias, shape);
    }
}
