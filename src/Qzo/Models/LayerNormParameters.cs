namespace Qzo.Models;

/// <summary>A torch LayerNorm's weight and bias (both absent without elementwise affine).</summary>
public sealed class LayerNormParameters(Parameter? weight, Parameter? bias) : IDisposable
{
    public Parameter? Weight { get; } = weight;
    public Parameter? Bias { get; } = bias;
    public IEnumerable<Parameter> Parameters => new[] { Weight, Bias }.OfType<Parameter>();

    /// <summary>y = LayerNorm(x) over rows of <paramref name="dim"/>; x and y may be the same buffer.</summary>
    public void Apply(ForwardContext context, Compute.DeviceTensor x, Compute.DeviceTensor y, int rows, int dim, float eps) =>
        context.Backend.LayerNorm(x, Weight is null ? null : context.ResolveVector(Weight), Bias is null ? null : context.ResolveBias(Bias),
                                  y, rows, dim, eps);

    public void Dispose() { Weight?.Dispose(); Bias?.Dispose(); }
}
