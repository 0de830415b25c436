using Qzo.Compute;

namespace Qzo.Models;

/// <summary>y[rows, out] = x[rows, in] · Wᵀ (+ bias), whatever form W is stored in; with accumulate, y += that.</summary>
public interface ILinear : IDisposable
{
    string Name { get; }
    int InFeatures { get; }
    int OutFeatures { get; }
    /// <summary>Every tensor of this layer that can be trained, in no particular order.</summary>
    IEnumerable<Parameter> Parameters { get; }
    void Forward(ForwardContext context, DeviceTensor x, int rows, DeviceTensor y, bool accumulate = false);
}
