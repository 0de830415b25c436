using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// A checkpoint tensor held on the device as fp32. A trainable one has an index t (its place among the
/// trainable tensors in ordinal name order, docs/algorithm.md §5), so a forward pass can use master + s·ε·z(seed, t, i).
/// </summary>
public sealed class Parameter : IDisposable
{
    public Parameter(string name, long[] shape, DType storedDType, DeviceTensor values)
    {
        Name = name;
        Shape = shape;
        StoredDType = storedDType;
        Values = values;
    }

    public string Name { get; }
    public long[] Shape { get; }
    public DType StoredDType { get; }
    public DeviceTensor Values { get; }
    public long Length => Values.Length;
    public int? TrainableIndex { get; set; }
    /// <summary>A quantization scale (Δ): updates keep it at or above the run's floor.</summary>
    public bool IsQuantizationScale { get; init; }

    /// <summary>
    /// The values a forward pass under <paramref name="p"/> sees, in the backend's compute type: the stored
    /// tensor itself, or (perturbed or converted from the fp32 master) a copy in scratch.
    /// </summary>
    public DeviceTensor Resolve(IBackend backend, Perturbation p, DeviceTensor scratch)
    {
        bool perturbed = !p.IsNone && TrainableIndex is not null;
        if (!perturbed && Values.DType == backend.ComputeType) return Values;
        if (scratch.Length < Length) throw new InvalidOperationException($"scratch of {scratch.Length} elements is too small for {Name}");
        backend.PerturbedCopy(Values, perturbed ? p : Perturbation.None, TrainableIndex ?? 0, scratch, Length);
        return scratch;
    }

    /// <summary>The current values, copied to the host as fp32.</summary>
    public float[] Download(IBackend backend)
    {
        var values = new float[Length];
        if (Values.DType == DType.F32) { backend.Download<float>(Values, values); return values; }
        var raw = new byte[Values.ByteLength];
        backend.Download<byte>(Values, raw);
        DTypes.ToSingle(Values.DType, raw, values);
        return values;
    }

    public void Dispose() => Values.Dispose();
}
