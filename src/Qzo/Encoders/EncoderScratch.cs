using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Encoders;

/// <summary>
/// The scratch buffers of a frozen encoder's forward passes (Models/ForwardContext): the weight scratch is sized to the
/// largest linear that must be materialized (a quantized one, or a dense one not held in the compute type), else it is
/// one element, since a dense linear in the compute type multiplies straight from its stored weight. Made at the first
/// pass and kept.
/// </summary>
sealed class EncoderScratch(IBackend backend, IReadOnlyList<ILinear> linears, int hidden) : IDisposable
{
    DeviceTensor? _weights, _vectors, _biases;

    public ForwardContext Context(Perturbation p)
    {
        if (_weights is null)
        {
            long weights = linears.Where(NeedsScratch).Select(l => (long)l.InFeatures * l.OutFeatures).DefaultIfEmpty(1).Max();
            long vectors = Math.Max(hidden, linears.Max(l => l.OutFeatures));
            _weights = backend.Allocate(backend.ComputeType, weights, MemoryCategory.Workspace);
            _vectors = backend.Allocate(backend.ComputeType, vectors, MemoryCategory.Workspace);
            _biases = backend.Allocate(backend.ComputeType, vectors, MemoryCategory.Workspace);
        }
        return new ForwardContext(backend, p, _weights, _vectors!, _biases!);
    }

    bool NeedsScratch(ILinear linear) =>
        linear is not DenseLinear dense || dense.Weight.Values.DType != backend.ComputeType || dense.Weight.TrainableIndex is not null;

    public void Dispose() { _weights?.Dispose(); _vectors?.Dispose(); _biases?.Dispose(); }
}
