using Qzo.Compute;
using Qzo.Models;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.Quantization.Gptq;

/// <summary>
/// A GPTQ linear: integer codes, zero points and g_idx stay frozen on the device; the scales [groups, out] are the
/// fp32 master. Dequantizes to [in, out] (qweight's layout, so a GPU writes it coalesced).
/// </summary>
public sealed class GptqLinear(string name, DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor gIdx, Parameter scales,
                               Parameter? bias, GptqKernelShape shape)
    : QuantizedLinear(name, scales, bias, shape.InFeatures, shape.OutFeatures)
{
    public GptqKernelShape Shape { get; } = shape;
    public override string Method => "GPTQ";
    public override WeightLayout Layout => WeightLayout.InputMajor;
    protected override IEnumerable<DeviceTensor> Frozen =>
        _codeSpan is null ? [qweight, qzeros, gIdx] : [qweight, qzeros, gIdx, _codeSpan];

    public override void Dequantize(IBackend backend, Perturbation p, DeviceTensor weight) =>
        GptqKernels.For(backend).Dequantize(qweight, qzeros, Scales.Values, gIdx, Shape, p, Scales.TrainableIndex ?? 0, weight);

    /// <summary>
    /// Dequantize + GEMM, or the fused kernel where the backend picks it (IGptqKernels.Linear); under --compute fp8 as every
    /// format (the codes straight to e4m3 where the backend can: IGptqKernels.TryLinearFp8).
    /// </summary>
    protected override bool Multiply(ForwardContext context, Perturbation p, DeviceTensor x, int rows, DeviceTensor y, bool accumulate,
                                     DeviceTensor? bias)
    {
        if (context.Backend.QuantizedLinearPrecision == LinearPrecision.Fp8) return base.Multiply(context, p, x, rows, y, accumulate, bias);
        GptqKernels.For(context.Backend).Linear(x, rows, qweight, qzeros, Scales.Values, gIdx, Shape, p, Scales.TrainableIndex ?? 0,
                                                context.WeightScratch, y, accumulate);
        return false; // the bias, if any, is added after
    }

    /// <summary>Under --compute fp8 on a GPU: the largest |q − zero| of each group and output, made on first use.</summary>
    DeviceTensor? _codeSpan;

    protected override bool TryMultiplyFp8(ForwardContext context, Perturbation p, DeviceTensor x, int rows, DeviceTensor y,
                                           bool accumulate, DeviceTensor? bias) =>
        GptqKernels.For(context.Backend).TryLinearFp8(x, rows, qweight, qzeros, Scales.Values, gIdx, Shape, p, Scales.TrainableIndex ?? 0,
                                                      bias, y, accumulate, ref _codeSpan);

    public override ScaleExport ExportScales(IBackend backend) => PlainScaleExport(backend);
}
