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
        var bias = Bias is null ? null : context.ResolveBias(Bias);
        if (!Multiply(context, p, x, rows, y, accumulate, accumulate ? null : bias) && bias is not null)
            context.Backend.AddBiasInPlace(y, bias, rows, OutFeatures);
    }

    /// <summary>
    /// y (+)= x·W under <paramref name="p"/>, plus <paramref name="bias"/> where given and the product can take it: dequantize
    /// into the shared weight scratch, then multiply (in fp8 under --compute fp8, IBackend.Fp8). Returns whether the bias was
    /// added. A format with a fused product overrides it.
    /// </summary>
    protected virtual bool Multiply(ForwardContext context, Perturbation p, DeviceTensor x, int rows, DeviceTensor y, bool accumulate,
                                    DeviceTensor? bias)
    {
        var b = context.Backend;
        bool fp8 = b.QuantizedLinearPrecision == LinearPrecision.Fp8;
        if (fp8 && TryMultiplyFp8(context, p, x, rows, y, accumulate, accumulate ? null : bias)) return bias is not null && !accumulate;
        Dequantize(b, p, context.WeightScratch);
        if (fp8 && b.TryMatMulFp8(x, context.WeightScratch, Layout == WeightLayout.InputMajor, accumulate ? null : bias, y, rows,
                                  OutFeatures, InFeatures, accumulate))
            return bias is not null && !accumulate;
        if (Layout == WeightLayout.InputMajor) b.MatMul(x, context.WeightScratch, y, rows, OutFeatures, InFeatures, accumulate);
        else if (bias is not null && !accumulate)
        {
            b.MatMulTransposedBAddBias(x, context.WeightScratch, bias, y, rows, OutFeatures, InFeatures);
            return true;
        }
        else b.MatMulTransposedB(x, context.WeightScratch, y, rows, OutFeatures, InFeatures, accumulate);
        return false;
    }

    /// <summary>
    /// Under --compute fp8: y (+)= the fp8 product with the weight's e4m3 codes formed straight from the format's own
    /// storage (no bf16 weight written), plus <paramref name="bias"/> where given. False (nothing done) where the format or
    /// backend has no such kernel: <see cref="Multiply"/> then dequantizes and converts.
    /// </summary>
    protected virtual bool TryMultiplyFp8(ForwardContext context, Perturbation p, DeviceTensor x, int rows, DeviceTensor y,
                                          bool accumulate, DeviceTensor? bias) => false;

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
