using Qzo.Compute;
using Qzo.Models;
using Qzo.Quantization.Aqlm.Kernels;

namespace Qzo.Quantization.Aqlm;

/// <summary>
/// An AQLM linear: codes and fp16 codebooks stay frozen on the device; the per-output-group scales [out/O, 1, 1, 1]
/// are the fp32 master (what QZO trains for AQLM). Dequantizes to [out, in].
/// </summary>
public sealed class AqlmLinear(string name, DeviceTensor codes, DeviceTensor codebooks, Parameter scales, Parameter? bias,
    AqlmKernelShape shape)
    : QuantizedLinear(name, scales, bias, shape.InFeatures, shape.OutFeatures)
{
    public AqlmKernelShape Shape { get; } = shape;
    public override string Method => "AQLM";
    public override WeightLayout Layout => WeightLayout.OutputMajor;
    protected override IEnumerable<DeviceTensor> Frozen => [codes, codebooks];

    public override void Dequantize(IBackend backend, Perturbation p, DeviceTensor weight) =>
        AqlmKernels.For(backend).Dequantize(codes, codebooks, Scales.Values, Shape, p, Scales.TrainableIndex ?? 0, weight);

    public override ScaleExport ExportScales(IBackend backend) => PlainScaleExport(backend);
}
