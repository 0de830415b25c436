using Qzo.Compute;

namespace Qzo.Models;

/// <summary>
/// What every quantized format's linear shares: each forward dequantizes into the shared weight scratch with the
/// perturbation folded into the scales (the scales perturb only when they train), multiplies, adds the bias.
/// </summary>
public abstract class QuantizedLinear(string name, Parameter scales, Parameter? bias, int inFeatures, int outFeatures) : IQuantizedLinear
{
    public string Name { get; } = name;
    public Parameter Scales { get; } = scales;
    public Parameter? Bias { get; } = bias;
    public int InFeatures { get; } = inFeatures;
    public int OutFeatures { get; } = outFeatures;
    public IEnumerable<Parameter> Parameters => Bias is null ? [Scales] : [Scales, Bias];

    public abstract string Method { get; }
    public abstract WeightLayout Layout { get; }
    public abstract void Dequantize(IBackend backend, Perturbation p, DeviceTensor weight);
    public abstract ScaleExport ExportScales(IBackend backend);

    /// <summary>The frozen device tensors (codes and the like), released with the layer.</summary>
    protected abstract IEnumerable<DeviceTensor> Frozen { get; }

    public void Forward(ForwardContext context, DeviceTensor x, int rows, DeviceTensor y, bool accumulate = false)
    {
        var p = Scales.TrainableIndex is null ? Perturbation.None : context.Perturbation;
        Multiply(context, p, x, rows, y, accumulate);
        if (Bias is not null) context.Backend.AddBiasInPlace(y, context.ResolveBias(Bias), rows, OutFeatures);
    }

    /// <summary>
    /// y (+)= x·W under <paramref name="p"/>: dequantize into the shared weight scratch, then multiply. A format with a fused
    /// product overrides it.
    /// </summary>
    protected virtual void Multiply(ForwardContext context, Perturbation p, DeviceTensor x, int rows, DeviceTensor y, bool accumulate)
    {
        var b = context.Backend;
        Dequantize(b, p, context.WeightScratch);
        if (Bias is not null && !accumulate && Layout != WeightLayout.InputMajor)
        {
            b.MatMulTransposedBAddBias(x, context.WeightScratch, context.ResolveBias(Bias), y, rows, OutFeatures, InFeatures);
            return;
        }
        if (Layout == WeightLayout.InputMajor) b.MatMul(x, context.WeightScratch, y, rows, OutFeatures, InFeatures, accumulate);
        else b.MatMulTransposedB(x, context.WeightScratch, y, rows, OutFeatures, InFeatures, accumulate);
    }

    /// <summary>The fp32 master scales in the dtype the checkpoint stores them in (for formats that store them plainly).</summary>
    protected ScaleExport PlainScaleExport(IBackend backend) =>
        new(new Dictionary<string, ReadOnlyMemory<byte>> { [Scales.Name] = Numerics.DTypes.FromSingle(Scales.StoredDType,
            Scales.Download(backend)) });

    public void Dispose()
    {
        foreach (var t in Frozen) t.Dispose();
        Scales.Dispose();
        Bias?.Dispose();
    }
}
