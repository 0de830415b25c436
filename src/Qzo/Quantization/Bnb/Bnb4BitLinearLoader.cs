using Qzo.Compute;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// A bitsandbytes 4-bit linear (docs/formats.md §6), read from its own quant_state: packed weight, absmax (fp32, or 8-bit
/// with nested_absmax and nested_quant_map when double-quantized) and quant_map, each checked against the quant_state.
/// </summary>
static class Bnb4BitLinearLoader
{
    public static ILinear Load(ParameterLoader p, string prefix, int inFeatures, int outFeatures, Parameter? bias)
    {
        var tensors = p.Checkpoint.Tensors;
        var stateNames = Enum.GetValues<FourBitType>().Select(t => Bnb4BitQuantState.TensorName(prefix, t)).Where(tensors.Contains)
            .ToList();
        if (stateNames.Count != 1)
            throw new QzoException(
                $"{p.FileOf(prefix + Bnb4BitLinearTensors.AbsmaxSuffix)}: '{prefix}' has a bitsandbytes absmax but {stateNames.Count} " +
                "quant_state tensors " +
                                   $"('{prefix}{Bnb4BitQuantState.TensorInfix}nf4' or 'fp4'); expected exactly one");
        var stateInfo = p.Require(stateNames[0]);
        p.CheckShape(stateInfo, [stateInfo.ElementCount], DType.U8);
        var state = Bnb4BitQuantState.Parse(tensors.FileOf(stateInfo.Name).GetBytes(stateInfo.Name), stateInfo.Name);
        if (!state.Shape.SequenceEqual([outFeatures, inFeatures]))
            throw new QzoException(
                $"{p.FileOf(stateInfo.Name)}: '{stateInfo.Name}' gives shape [{string.Join(", ", state.Shape)}] but config.json implies " +
                $"[{outFeatures}, {inFeatures}]");

        var shape = new Bnb4BitKernelShape(outFeatures, inFeatures, state.BlockSize);
        int blocks = (int)shape.Blocks;
        var weightInfo = p.Require(prefix + ".weight");
        p.CheckShape(weightInfo, [(shape.Count + 1) / 2, 1], DType.U8);
        var mapInfo = p.Require(prefix + Bnb4BitLinearTensors.QuantMapSuffix);
        p.CheckShape(mapInfo, [16], DType.F32);
        CheckTable(p, mapInfo.Name, FourBitCode.For(state.QuantType).Values, state.QuantType);

        var absmaxInfo = p.Require(prefix + Bnb4BitLinearTensors.AbsmaxSuffix);
        NestedAbsmax? nested = null;
        float[] absmax;
        if (state.Nested)
        {
            p.CheckShape(absmaxInfo, [blocks], DType.U8);
            int nestedBlocks = (blocks + state.NestedBlockSize!.Value - 1) / state.NestedBlockSize.Value;
            var nestedInfo = p.Require(prefix + Bnb4BitLinearTensors.NestedAbsmaxSuffix);
            p.CheckShape(nestedInfo, [nestedBlocks], DType.F32);
            var nestedMapInfo = p.Require(prefix + Bnb4BitLinearTensors.NestedQuantMapSuffix);
            p.CheckShape(nestedMapInfo, [256], DType.F32);
            nested = new NestedAbsmax(tensors.FileOf(absmaxInfo.Name).GetBytes(absmaxInfo.Name).ToArray(),
                tensors.ReadFloat32(nestedInfo.Name),
                                      tensors.ReadFloat32(nestedMapInfo.Name), state.NestedBlockSize.Value, state.NestedOffset!.Value);
            absmax = nested.Decode();
        }
        else
        {
            p.CheckShape(absmaxInfo, [blocks], DType.F32);
            absmax = tensors.ReadFloat32(absmaxInfo.Name);
        }

        var master = p.ScaleMaster(absmaxInfo.Name, [blocks], absmaxInfo.DType, absmax);
        var packed = p.Frozen(tensors.FileOf(weightInfo.Name).GetBytes(weightInfo.Name), DType.U8);
        var table = p.Frozen(DTypes.FromSingle(DType.F32, FourBitCode.For(state.QuantType).Values.ToArray()), DType.F32);
        return new Bnb4BitLinear(prefix, packed, table, master, bias, shape, state.QuantType, nested);
    }

    /// <summary>
    /// bitsandbytes dequantizes with its built-in table for the quant_type, not the stored quant_map; a map that differs would mean another
    /// format.
    /// </summary>
    static void CheckTable(ParameterLoader p, string name, IReadOnlyList<float> expected, FourBitType type)
    {
        var stored = p.Checkpoint.Tensors.ReadFloat32(name);
        for (int i = 0; i < 16; i++)
            if (Math.Abs(stored[i] - expected[i]) > 1e-6f)
                throw new QzoException(
                    $"{p.FileOf(name)}: '{name}'[{i}] = {stored[i]} is not bitsandbytes' {type.Name()} value {expected[i]}");
    }
}
