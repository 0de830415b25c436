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
    protected override IEnumerable<DeviceTensor> Frozen => [qweight, qzeros, gIdx];

    public override void Dequantize(IBackend backend, Perturbation p, DeviceTensor weight) =>
        GptqKernels.For(backend).Dequantize(qweight, qzeros, Scales.Values, gIdx, Shape, p, Scales.TrainableIndex ?? 0, weight);

    /// <summary>
    /// Dequantize + GEMM, or the fused kernel where the backend picks it (IGptqKernels.Linear); under --compute fp8 the codes
    /// go straight to e4m3 where the backend can (IGptqKernels.TryLinearFp8), else the dequantized weight does.
    /// </summary>
    protected override bool Multiply(ForwardContext context, Perturbation p, DeviceTensor x, int rows, DeviceTensor y, bool accumulate,
                                     DeviceTensor? bias)
    {
        var kernels = GptqKernels.For(context.Backend);
        if (context.Backend.QuantizedLinearPrecision == LinearPrecision.Fp8)
            return kernels.TryLinearFp8(x, rows, qweight, qzeros, Scales.Values, gIdx, Shape, p, Scales.TrainableIndex ?? 0, y, accumulate)
                ? false // the bias, if any, is added after
                : base.Multiply(context, p, x, rows, y, accumulate, bias);
        kernels.Linear(x, rows, qweight, qzeros, Scales.Values, gIdx, Shape, p, Scales.TrainableIndex ?? 0,
                                                context.WeightScratch, y, accumulate);
        return false; // the bias, if any, is added after
    }

    public override ScaleExport ExportScales(IBackend backend) => PlainScaleExport(backend);
}
