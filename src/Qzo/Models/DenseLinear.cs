using Qzo.Compute;

namespace Qzo.Models;

/// <summary>An unquantized linear layer: weight [out, in] and an optional bias.</summary>
public sealed class DenseLinear(string name, Parameter weight, Parameter? bias) : ILinear
{
    public string Name { get; } = name;
    public Parameter Weight { get; } = weight;
    public Parameter? Bias { get; } = bias;
    public int InFeatures => (int)Weight.Shape[1];
    public int OutFeatures => (int)Weight.Shape[0];
    public IEnumerable<Parameter> Parameters => Bias is null ? [Weight] : [Weight, Bias];

    public void Forward(ForwardContext context, DeviceTensor x, int rows, DeviceTensor y, bool accumulate = false)
    {
        var b = context.Backend;
        if (Bias is not null && !accumulate)
        {
            b.MatMulTransposedBAddBias(x, context.Resolve(Weight), context.ResolveBias(Bias), y, rows, OutFeatures, InFeatures);
            return;
        }
        b.MatMulTransposedB(x, context.Resolve(Weight), y, rows, OutFeatures, InFeatures, accumulate);
        if (Bias is not null) b.AddBiasInPlace(y, context.ResolveBias(Bias), rows, OutFeatures);
    }

    public void Dispose() { Weight.Dispose(); Bias?.Dispose(); }
}
