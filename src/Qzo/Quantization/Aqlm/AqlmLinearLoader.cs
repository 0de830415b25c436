using Qzo.Compute;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;

namespace Qzo.Quantization.Aqlm;

/// <summary>An AQLM linear (docs/formats.md §5): codes, fp16 codebooks and per-output-group scales, checked against its config.</summary>
static class AqlmLinearLoader
{
    public static ILinear Load(ParameterLoader p, string prefix, int inFeatures, int outFeatures, Parameter? bias)
    {
        var config = p.Checkpoint.Quantization as AqlmConfig ?? throw new QzoException(
            $"{p.FileOf(prefix + ".codes")}: '{prefix}.codes' is AQLM-coded but config.json's quantization_config is not AQLM's");
        var s = config.Scheme;
        if (inFeatures % s.InGroupSize != 0 || outFeatures % s.OutGroupSize != 0)
            throw new QzoException(
                $"{p.FileOf(prefix + ".codes")}: '{prefix}' is [{outFeatures}, {inFeatures}], which does not split into AQLM groups of " +
                $"{s.OutGroupSize} outputs × {s.InGroupSize} inputs");
        int outGroups = outFeatures / s.OutGroupSize;

        var tensors = p.Checkpoint.Tensors;
        p.CheckShape(p.Require(prefix + ".codes"), [outGroups, inFeatures / s.InGroupSize, s.Codebooks], s.CodeDType);
        var codebookInfo = p.Require(prefix + ".codebooks");
        p.CheckShape(codebookInfo, [s.Codebooks, s.CodebookSize, s.OutGroupSize, s.InGroupSize], DType.F16, DType.BF16, DType.F32);
        var scales = p.Dense(prefix + ".scales", [outGroups, 1, 1, 1], isScale: true);
        try
        {
            if (p.TrainsScales && scales.Download(p.Backend).Any(v => v < 0))
                throw new QzoException(
                    $"{p.FileOf(prefix + ".scales")}: '{prefix}.scales' has negative values; QZO keeps scales at or above the floor " +
                    "(max(Δ − η·d·z, 0)), which would zero them");
            var codes = p.Frozen(tensors.FileOf(prefix + ".codes").GetBytes(prefix + ".codes"), s.CodeDType);
            var codebooks = p.Frozen(Fp16Codebooks(p, codebookInfo.Name, codebookInfo.DType), DType.F16);
            var shape = new AqlmKernelShape(outFeatures, inFeatures, s.Codebooks, s.CodebookBits, s.InGroupSize, s.OutGroupSize);
            return new AqlmLinear(prefix, codes, codebooks, scales, bias, shape);
        }
        catch { scales.Dispose(); throw; }
    }

    /// <summary>The codebooks as fp16 bytes (AQLM writes fp16; other float dtypes are accepted when fp16 holds them exactly).</summary>
    static byte[] Fp16Codebooks(ParameterLoader p, string name, DType dtype)
    {
        var file = p.Checkpoint.Tensors.FileOf(name);
        if (dtype == DType.F16) return file.GetBytes(name).ToArray();
        var values = file.ReadFloat32(name);
        var half = DTypes.FromSingle(DType.F16, values);
        var back = new float[values.Length];
        DTypes.ToSingle(DType.F16, half, back);
        for (int i = 0; i < values.Length; i++)
            if (back[i] != values[i])
                throw new QzoException(
                    $"{file.Path}: '{name}' is {dtype.Name()} and value {i} ({values[i]}) has no exact fp16 form; Qzo holds AQLM " +
                    "codebooks as fp16");
        return half;
    }
}
