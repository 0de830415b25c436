using Qzo.Compute;

namespace Qzo.Models;

/// <summary>
/// What every layer of one forward pass shares: the backend, the perturbation, and three scratch buffers
/// (one sized to the largest weight matrix, for dequantized or perturbed weights; two for vectors: norm
/// weights, and biases, which a LayerNorm needs at the same time), reused layer after layer.
/// </summary>
public sealed class ForwardContext(IBackend backend, Perturbation perturbation, DeviceTensor weightScratch,
                                   DeviceTensor vectorScratch, DeviceTensor biasScratch)
{
    public IBackend Backend { get; } = backend;
    public Perturbation Perturbation { get; } = perturbation;
    public DeviceTensor WeightScratch { get; } = weightScratch;

    public DeviceTensor Resolve(Parameter parameter) => parameter.Resolve(Backend, Perturbation, WeightScratch);
    public DeviceTensor ResolveVector(Parameter parameter) => parameter.Resolve(Backend, Perturbation, vectorScratch);
    public DeviceTensor ResolveBias(Parameter parameter) => parameter.Resolve(Backend, Perturbation, biasScratch);
}
