using Qzo.Compute;
using Qzo.Quantization;

namespace Qzo.Models;

/// <summary>
/// A GPTQ linear: integer codes, zero points and g_idx stay frozen on the device; the scales are an fp32
/// master <see cref="Parameter"/>. Each forward dequantizes into the shared weight scratch with the
/// perturbation folded in, then multiplies.
/// </summary>
public sealed class GptqLinear : ILinear
{
    readonly DeviceTensor _qweight, _qzeros, _gIdx;

    public GptqLinear(string name, DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor gIdx, Parameter scales,
                      Parameter? bias, GptqKernelShape shape)
    {
        Name = name;
        _qweight = qweight;
        _qzeros = qzeros;
        _gIdx = gIdx;
        Scales = scales;
        Bias = bias;
        Shape = shape;
    }

    public string Name { get; }
    public Parameter Scales { get; }
    public Parameter? Bias { get; }
    public GptqKernelShape Shape { get; }
    public int InFeatures => Shape.InFeatures;
    public int OutFeatures => Shape.OutFeatures;
    public IEnumerable<Parameter> Parameters => Bias is null ? [Scales] : [Scales, Bias];

    public void Forward(ForwardContext context, DeviceTensor x, int rows, DeviceTensor y)
    {
        var b = context.Backend;
        var p = Scales.TrainableIndex is null ? Perturbation.None : context.Perturbation;
        b.DequantizeGptq(_qweight, _qzeros, Scales.Values, _gIdx, Shape, p, Scales.TrainableIndex ?? 0, context.WeightScratch);
        b.MatMul(x, context.WeightScratch, y, rows, OutFeatures, InFeatures);
        if (Bias is not null) b.AddBiasInPlace(y, context.ResolveBias(Bias), rows, OutFeatures);
    }

    public void Dispose()
    {
        _qweight.Dispose(); _qzeros.Dispose(); _gIdx.Dispose();
        Scales.Dispose(); Bias?.Dispose();
    }
}
