using Qzo.Compute;

namespace Qzo.Models;

/// <summary>
/// What every layer of one forward pass shares: the backend, the perturbation, and two scratch buffers
/// (one sized to the largest weight matrix, for dequantized or perturbed weights; one for vectors such as
/// norms and biases), reused layer after layer.
/// </summary>
public sealed class ForwardContext(IBackend backend, Perturbation perturbation, DeviceTensor weightScratch, DeviceTensor vectorScratch)
{
    public IBackend Backend { get; } = backend;
    public Perturbation Perturbation { get; } = perturbation;
    public DeviceTensor WeightScratch { get; } = weightScratch;
    public DeviceTensor VectorScratch { get; } = vectorScratch;

    public DeviceTensor Resolve(Parameter parameter) => parameter.Resolve(Backend, Perturbation, WeightScratch);
    public DeviceTensor ResolveVector(Parameter parameter) => parameter.Resolve(Backend, Perturbation, VectorScratch);
}
