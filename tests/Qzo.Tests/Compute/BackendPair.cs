using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.Numerics;

namespace Qzo.Tests.Compute;

/// <summary>
/// The CPU reference backend beside the GPU backend running on ILGPU's CPU accelerator. Float inputs are
/// rounded to bf16 first, so both see identical values; GPU results are compared with bf16 tolerances.
/// </summary>
sealed class BackendPair : IDisposable
{
    public CpuBackend Cpu { get; } = new();
    public CudaBackend Gpu { get; } = TestBackends.Gpu();
    readonly List<DeviceTensor> _tensors = new();

    public static float[] RandomBf16(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => RoundBf16((float)(random.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    public static float RoundBf16(float v) => BFloat16.ToSingle(BFloat16.FromSingle(v));

    /// <summary>The values as F32 on the CPU and as BF16 (or F32 with <paramref name="f32"/>) on the GPU.</summary>
    public (DeviceTensor Cpu, DeviceTensor Gpu) Activation(float[] values, bool f32 = false)
    {
        var c = Track(Cpu.Allocate(DType.F32, values.Length, MemoryCategory.Activations));
        Cpu.Upload<float>(c, values);
        var g = Track(Gpu.Allocate(f32 ? DType.F32 : DType.BF16, values.Length, MemoryCategory.Activations));
        if (f32) Gpu.Upload<float>(g, values);
        else Gpu.Upload<byte>(g, DTypes.FromSingle(DType.BF16, values));
        return (c, g);
    }

    public (DeviceTensor Cpu, DeviceTensor Gpu) Ints(int[] values)
    {
        var c = Track(Cpu.Allocate(DType.I32, values.Length, MemoryCategory.Activations));
        Cpu.Upload<int>(c, values);
        var g = Track(Gpu.Allocate(DType.I32, values.Length, MemoryCategory.Activations));
        Gpu.Upload<int>(g, values);
        return (c, g);
    }

    /// <summary>Raw little-endian bytes of <paramref name="dtype"/> (packed codes, fp16 codebooks), identical on both backends.</summary>
    public (DeviceTensor Cpu, DeviceTensor Gpu) Bytes(byte[] bytes, DType dtype)
    {
        var c = Track(Cpu.Allocate(dtype, bytes.Length / dtype.SizeInBytes(), MemoryCategory.Activations));
        Cpu.Upload<byte>(c, bytes);
        var g = Track(Gpu.Allocate(dtype, bytes.Length / dtype.SizeInBytes(), MemoryCategory.Activations));
        Gpu.Upload<byte>(g, bytes);
        return (c, g);
    }

    public (DeviceTensor Cpu, DeviceTensor Gpu) Zeros(int count, bool f32 = false) => Activation(new float[count], f32);

    public (DeviceTensor Cpu, DeviceTensor Gpu) Doubles(double[] values)
    {
        var c = Track(Cpu.Allocate(DType.F64, values.Length, MemoryCategory.Workspace));
        Cpu.Upload<double>(c, values);
        var g = Track(Gpu.Allocate(DType.F64, values.Length, MemoryCategory.Workspace));
        Gpu.Upload<double>(g, values);
        return (c, g);
    }

    public double[] ReadDoubles(DeviceTensor t)
    {
        var values = new double[t.Length];
        BackendOf(t).Download<double>(t, values);
        return values;
    }

    public int[] ReadInts(DeviceTensor t)
    {
        var values = new int[t.Length];
        BackendOf(t).Download<int>(t, values);
        return values;
    }

    IBackend BackendOf(DeviceTensor t) => t is Qzo.Compute.Cpu.CpuTensor ? Cpu : Gpu;

    public float[] Read(DeviceTensor t)
    {
        var backend = (IBackend)(t is Qzo.Compute.Cpu.CpuTensor ? Cpu : Gpu);
        var values = new float[t.Length];
        if (t.DType == DType.F32) { backend.Download<float>(t, values); return values; }
        var raw = new byte[t.ByteLength];
        backend.Download<byte>(t, raw);
        DTypes.ToSingle(t.DType, raw, values);
        return values;
    }

    /// <summary>|gpu − cpu| ≤ relative·|cpu| + absolute for every element.</summary>
    public void AssertClose(DeviceTensor cpu, DeviceTensor gpu, double relative = 1.0 / 128, double absolute = 1e-3)
    {
        var expected = Read(cpu);
        var actual = Read(gpu);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= relative * Math.Abs(expected[i]) + absolute,
                $"element {i}: GPU {actual[i]} vs CPU {expected[i]}");
    }

    DeviceTensor Track(DeviceTensor t) { _tensors.Add(t); return t; }

    public void Dispose()
    {
        foreach (var t in _tensors) t.Dispose();
        Gpu.Dispose();
        Cpu.Dispose();
    }
}
