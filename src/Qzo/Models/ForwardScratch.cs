using Qzo.Compute;

namespace Qzo.Models;

/// <summary>
/// The three scratch buffers a <see cref="ForwardContext"/> resolves parameters into (a weight matrix, a vector, a
/// bias), in the compute type, made at the first pass with the sizes the owner computes and kept until disposed.
/// </summary>
public sealed class ForwardScratch(IBackend backend, Func<(long Weights, long Vectors)> sizes) : IDisposable
{
    DeviceTensor? _weights, _vectors, _biases;

    public ForwardContext Context(Perturbation perturbation)
    {
        if (_weights is null)
        {
            var (weights, vectors) = sizes();
            _weights = backend.Allocate(backend.ComputeType, weights, MemoryCategory.Workspace);
            _vectors = backend.Allocate(backend.ComputeType, vectors, MemoryCategory.Workspace);
            _biases = backend.Allocate(backend.ComputeType, vectors, MemoryCategory.Workspace);
        }
        return new ForwardContext(backend, perturbation, _weights, _vectors!, _biases!);
    }

    public void Dispose() { _weights?.Dispose(); _vectors?.Dispose(); _biases?.Dispose(); }
}
