using System.Collections.Concurrent;
using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.DeviceTests.Kernels;

/// <summary>
/// Inputs of a case on one backend. Values are drawn from a seed and rounded to bf16 where they feed an activation, so the
/// CPU (F32) and the GPU (BF16) see identical numbers; the host arrays are kept for the next backend.
/// </summary>
sealed class CaseInputs(IBackend backend) : IDisposable
{
    static readonly ConcurrentDictionary<(int Count, int Seed, float Scale), float[]> Drawn = new();
    readonly List<DeviceTensor> _tensors = [];

    public IBackend Backend { get; } = backend;

    /// <summary>count values uniform in (−scale, scale), rounded to bf16; drawn in parallel chunks, each from its own seed.</summary>
    public static float[] Values(int count, int seed, float scale = 1f) => Drawn.GetOrAdd((count, seed, scale), key =>
    {
        const int chunk = 1 << 16;
        var values = new float[key.Count];
        Parallel.For(0, (key.Count + chunk - 1) / chunk, c =>
        {
            var random = new Random(HashCode.Combine(key.Seed, c));
            for (int i = c * chunk; i < Math.Min(key.Count, (c + 1) * chunk); i++)
                values[i] = BFloat16.ToSingle(BFloat16.FromSingle((float)(random.NextDouble() * 2 - 1) * key.Scale));
        });
        return values;
    });

    /// <summary>Values in the backend's compute type (F32 on the CPU, BF16 on a GPU).</summary>
    public DeviceTensor Activation(int count, int seed, float scale = 1f) => Activation(Values(count, seed, scale));

    public DeviceTensor Activation(float[] values) => Write(Allocate(Backend.ComputeType, values.Length), values);

    public DeviceTensor F32(int count, int seed, float scale = 1f) => F32(Values(count, seed, scale));

    public DeviceTensor F32(float[] values) => Write(Allocate(DType.F32, values.Length), values);

    /// <summary>Zeros written explicitly: a GPU allocation starts with whatever the memory held.</summary>
    public DeviceTensor Zeros(int count, DType? dtype = null)
    {
        var t = Allocate(dtype ?? Backend.ComputeType, count);
        Backend.Upload<byte>(t, new byte[t.ByteLength]);
        return t;
    }

    public DeviceTensor Ints(int[] values)
    {
        var t = Allocate(DType.I32, values.Length);
        Backend.Upload<int>(t, values);
        return t;
    }

    public DeviceTensor F64(double[] values)
    {
        var t = Allocate(DType.F64, values.Length);
        Backend.Upload<double>(t, values);
        return t;
    }

    public DeviceTensor Bytes(byte[] bytes, DType dtype)
    {
        var t = Allocate(dtype, bytes.Length / dtype.SizeInBytes());
        Backend.Upload<byte>(t, bytes);
        return t;
    }

    /// <summary>values into t in t's element type (F32, BF16 or F16).</summary>
    public DeviceTensor Write(DeviceTensor t, float[] values)
    {
        if (t.DType == DType.F32) Backend.Upload<float>(t, values);
        else Backend.Upload<byte>(t, DTypes.FromSingle(t.DType, values));
        return t;
    }

    /// <summary>Any tensor's elements as doubles (integers exactly).</summary>
    public double[] Read(DeviceTensor t)
    {
        var result = new double[t.Length];
        switch (t.DType)
        {
            case DType.F64: Backend.Download<double>(t, result); break;
            case DType.I32:
                var ints = new int[t.Length];
                Backend.Download<int>(t, ints);
                for (int i = 0; i < ints.Length; i++) result[i] = ints[i];
                break;
            default:
                var raw = new byte[t.ByteLength];
                Backend.Download<byte>(t, raw);
                var floats = new float[t.Length];
                DTypes.ToSingle(t.DType, raw, floats);
                for (int i = 0; i < floats.Length; i++) result[i] = floats[i];
                break;
        }
        return result;
    }

    DeviceTensor Allocate(DType dtype, long count)
    {
        var t = Backend.Allocate(dtype, count, MemoryCategory.Workspace);
        _tensors.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _tensors) t.Dispose();
        _tensors.Clear();
    }
}
