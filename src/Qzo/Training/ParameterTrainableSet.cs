using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Training;

/// <summary>
/// Trainable <see cref="Parameter"/>s held on a backend: updates run on the device with the backend's z, which is the
/// one its forward passes perturb with, so any model made of parameters trains through this set.
/// </summary>
public sealed class ParameterTrainableSet : ITrainableSet
{
    readonly IBackend _backend;
    readonly IReadOnlyList<Parameter> _parameters;

    /// <param name="parameters">the trainable parameters in index order.</param>
    public ParameterTrainableSet(IBackend backend, IReadOnlyList<Parameter> parameters)
    {
        _backend = backend;
        _parameters = parameters.ToList();
        Tensors = _parameters.Select(p => new TrainableTensor(p.Name, p.Length, p.IsQuantizationScale)).ToList();
    }

    public IReadOnlyList<TrainableTensor> Tensors { get; }

    public void Update(ulong seed, float step, float floor)
    {
        foreach (var p in _parameters)
            _backend.ZerothOrderUpdate(p.Values, seed, p.TrainableIndex!.Value, step, p.IsQuantizationScale ? floor : null, p.Length);
    }

    public float[][] Snapshot() => _parameters.Select(p => p.Download(_backend)).ToArray();

    public void Restore(float[][] values)
    {
        for (int i = 0; i < _parameters.Count; i++) _backend.Upload<float>(_parameters[i].Values, values[i]);
    }
}
