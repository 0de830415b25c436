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
    readonly ForwardScratch _scratch = new(backend, () =>
    (
        linears.Where(l => NeedsScratch(backend, l)).Select(l => (long)l.InFeatures * l.OutFeatures).DefaultIfEmpty(1).Max(),
        Math.Max(hidden, linears.Max(l => l.OutFeatures))
    ));

    public ForwardContext Context(Perturbation p) => _scratch.Context(p);

    static bool NeedsScratch(IBackend backend, ILinear linear) =>
        linear is not DenseLinear dense || dense.Weight.Values.DType != backend.ComputeType || dense.Weight.TrainableIndex is not null;

    public void Dispose() => _scratch.Dispose();
}
