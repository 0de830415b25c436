using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Qzo.Compute.Cuda.Kernels;
using Qzo.Compute.Cuda.Native;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>
/// The GPU backend: ILGPU kernels for everything but matrix products, cuBLAS GemmEx (bf16 in, fp32
/// accumulation) for those, all on ILGPU's stream. Activations and frozen weights are bf16.
/// The same code runs on ILGPU's CPU accelerator (with a plain GEMM kernel) so CI can test every kernel.
/// </summary>
public sealed class CudaBackend : IBackend
{
    readonly Context _context;
    readonly Accelerator _accelerator;
    readonly CublasGemm? _cublas;
    readonly KernelSet _kernels;
    IlgpuTensor? _scaleScratch;

    CudaBackend(Context context, Accelerator accelerator)
    {
        _context = context;
        _accelerator = accelerator;
        if (accelerator is CudaAccelerator cuda)
        {
            _cublas = new CublasGemm(((CudaStream)cuda.DefaultStream).StreamPtr);
            Name = $"cuda ({accelerator.Name}, cuBLAS {_cublas.Version})";
        }
        else Name = $"ilgpu-{accelerator.AcceleratorType.ToString().ToLowerInvariant()} (simulated, tests only)";
        _kernels = new KernelSet(accelerator);
    }

    /// <summary>The first CUDA device; a clear error when there is none.</summary>
    public static CudaBackend Create()
    {
        Context context;
        try { context = Context.Create(builder => builder.Cuda().Optimize(OptimizationLevel.O2)); }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            throw new QzoException($"--device cuda: the CUDA driver could not be used ({e.GetBaseException().Message.Split('\n')[0]})");
        }
        var device = context.GetCudaDevices().Count > 0 ? context.GetCudaDevices()[0] : null;
        if (device is null)
        {
            context.Dispose();
            throw new QzoException("--device cuda: no CUDA device found");
        }
        return new CudaBackend(context, device.CreateAccelerator(context));
    }

    /// <summary>Whether a CUDA device is present (for --device auto), without throwing.</summary>
    public static bool IsCudaAvailable()
    {
        try
        {
            using var context = Context.Create(builder => builder.Cuda());
            return context.GetCudaDevices().Count > 0;
        }
        catch (Exception) { return false; }
    }

    /// <summary>ILGPU's CPU accelerator with warp 32 and 1024-thread groups, as on an NVIDIA GPU: for tests.</summary>
    public static CudaBackend CreateCpuSimulation()
    {
        var context = Context.Create(builder => builder.CPU(CPUDeviceKind.Nvidia));
        return new CudaBackend(context, context.GetCPUDevice(0).CreateAccelerator(context));
    }

    public string Name { get; }

    /// <summary>Threads per group of the row reductions: 256 on a GPU; one warp on ILGPU's CPU accelerator, whose barriers are slow.</summary>
    int ReductionGroup => IsCuda ? 256 : 32;
    public DType ComputeType => DType.BF16;
    public MemoryTracker Memory { get; } = new();
    public bool IsCuda => _cublas is not null;

    /// <summary>The driver's free and total device memory (cuMemGetInfo); null off CUDA.</summary>
    public (long Free, long Total)? DriverMemory()
    {
        if (!IsCuda) return null;
        NativeLibraries.EnsureResolver();
        return CudaDriver.MemGetInfo(out var free, out var total) == 0 ? ((long)free, (long)total) : null;
    }

    public DeviceTensor Allocate(DType dtype, long length, MemoryCategory category)
    {
        try { return new IlgpuTensor(_accelerator, dtype, length, category, Memory); }
        catch (Exception e) when (e.GetType().Name.Contains("OutOfMemory") || e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase))
        {
            throw new QzoException($"out of GPU memory allocating {length * dtype.SizeInBytes() / (1 << 20)} MiB of {category} " +
                                   $"({Memory.CurrentTotal / (1 << 20)} MiB already in use by Qzo); use a smaller --batch-size or --max-length");
        }
    }

    public void Upload<T>(DeviceTensor destination, ReadOnlySpan<T> source, long offset = 0) where T : unmanaged
    {
        if (source.IsEmpty) return;
        var view = Ilgpu(destination).View<T>().SubView(offset, source.Length);
        view.CopyFromCPU(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source), source.Length);
    }

    public void Download<T>(DeviceTensor source, Span<T> destination, long offset = 0) where T : unmanaged
    {
        if (destination.IsEmpty) return;
        var view = Ilgpu(source).View<T>().SubView(offset, destination.Length);
        view.CopyToCPU(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination), destination.Length);
    }

    public void Copy(DeviceTensor source, DeviceTensor destination, long count)
    {
        if (source.DType != destination.DType) throw new ArgumentException("copy between different element types");
        long bytes = count * source.DType.SizeInBytes();
        Ilgpu(source).View<byte>().SubView(0, bytes).CopyTo(Ilgpu(destination).View<byte>().SubView(0, bytes));
    }

    public void MatMulTransposedB(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool accumulate = false) =>
        Gemm(a, b, c, m, n, k, transposedB: true, accumulate);

    public void MatMul(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool accumulate = false) =>
        Gemm(a, b, c, m, n, k, transposedB: false, accumulate);

    void Gemm(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool transposedB, bool accumulate)
    {
        Require(a, DType.BF16); Require(b, DType.BF16);
        bool f32 = c.DType == DType.F32;
        if (!f32) Require(c, DType.BF16);
        if (m == 0 || n == 0) return;
        if (_cublas is not null)
        {
            _cublas.Multiply(Ilgpu(a).Pointer, Ilgpu(b).Pointer, Ilgpu(c).Pointer, f32, m, n, k, transposedB, accumulate);
            return;
        }
        var shape = new GemmFallbackKernel.Shape(m, n, k, transposedB ? 1 : 0, accumulate ? 1 : 0);
        int count = Count((long)m * n);
        if (f32) _kernels.GemmToF32(count, V16(a), V16(b), Ilgpu(c).View<float>(), shape);
        else _kernels.GemmToBf16(count, V16(a), V16(b), V16(c), shape);
    }

    public void EmbeddingGather(DeviceTensor table, DeviceTensor ids, DeviceTensor output, int rows, int dim)
    {
        Require(table, DType.BF16); Require(output, DType.BF16);
        _kernels.GatherRows(Count((long)rows * dim), V16(table), VI(ids), V16(output), dim);
    }

    public void RmsNorm(DeviceTensor x, DeviceTensor weight, DeviceTensor y, int rows, int dim, float eps)
    {
        Require(weight, DType.BF16);
        _kernels.RmsNorm(new KernelConfig(rows, ReductionGroup), V16(x), V16(weight), V16(y), dim, eps);
    }

    public void ApplyRope(DeviceTensor x, DeviceTensor positions, DeviceTensor cos, DeviceTensor sin, int rows, int heads, int headDim) =>
        _kernels.Rope(Count((long)rows * heads * (headDim / 2)), V16(x), VI(positions), VF(cos), VF(sin), heads, headDim);

    public void CausalAttention(DeviceTensor q, DeviceTensor k, DeviceTensor v, DeviceTensor keyMask, DeviceTensor output,
                                int batch, int seq, int heads, int kvHeads, int headDim)
    {
        if (heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads cannot share {kvHeads} key/value heads");
        if (headDim > AttentionKernel.MaxHeadDim) throw new QzoException($"head_dim {headDim} exceeds the attention kernel's limit of {AttentionKernel.MaxHeadDim}");
        int tiles = (seq + AttentionKernel.QueryTile - 1) / AttentionKernel.QueryTile;
        var shape = new AttentionKernel.Shape(batch, seq, heads, kvHeads, headDim, 1.0f / MathF.Sqrt(headDim));
        _kernels.Attention(new KernelConfig(batch * heads * tiles, AttentionKernel.QueryTile), V16(q), V16(k), V16(v), VI(keyMask), V16(output), shape);
    }

    public void SiluMulInPlace(DeviceTensor gate, DeviceTensor up, long count) => _kernels.SiluMul(Count(count), V16(gate), V16(up));

    public void AddInPlace(DeviceTensor x, DeviceTensor y, long count) => _kernels.Add(Count(count), V16(x), V16(y));

    public void AddBiasInPlace(DeviceTensor x, DeviceTensor bias, int rows, int dim) =>
        _kernels.AddBias(Count((long)rows * dim), V16(x), V16(bias), dim);

    public void CrossEntropyRows(DeviceTensor logits, DeviceTensor targets, DeviceTensor nll, int rows, int vocab)
    {
        if (rows == 0) return;
        _kernels.CrossEntropy(new KernelConfig(rows, ReductionGroup), VF(logits), VI(targets), VF(nll), vocab);
    }

    public void PerturbedCopy(DeviceTensor master, Perturbation p, int tensorIndex, DeviceTensor output, long count)
    {
        Require(master, DType.F32);
        if (output.DType == DType.F32) _kernels.PerturbedCopyToF32(Count(count), VF(master), VF(output), p.Seed, p.Scale, tensorIndex);
        else _kernels.PerturbedCopyToBf16(Count(count), VF(master), V16(output), p.Seed, p.Scale, tensorIndex);
    }

    public void ZerothOrderUpdate(DeviceTensor master, ulong seed, int tensorIndex, float step, float? floor, long count) =>
        _kernels.ZerothOrderUpdate(Count(count), VF(master), seed, tensorIndex, step, floor ?? float.NegativeInfinity);

    public void DequantizeGptq(DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                               GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor weight)
    {
        long scaleCount = (long)shape.Groups * shape.OutFeatures;
        if (_scaleScratch is null || _scaleScratch.Length < scaleCount)
        {
            _scaleScratch?.Dispose();
            _scaleScratch = (IlgpuTensor)Allocate(DType.F32, scaleCount, MemoryCategory.Workspace);
        }
        PerturbedCopy(scales, p, scaleTensorIndex, _scaleScratch, scaleCount);
        var kernelShape = new GptqDequantKernel.Shape(shape.InFeatures, shape.OutFeatures, shape.Bits, shape.ZerosOffsetByOne ? 1 : 0);
        _kernels.DequantizeGptq(Count((long)shape.InFeatures * shape.OutFeatures), VI(qweight), VI(qzeros), _scaleScratch.View<float>(), VI(gIdx), V16(weight), kernelShape);
    }

    /// <summary>Waits for every queued kernel (timing; downloads already wait).</summary>
    public void Synchronize() => _accelerator.Synchronize();

    public void Dispose()
    {
        _scaleScratch?.Dispose();
        _cublas?.Dispose();
        _accelerator.Dispose();
        _context.Dispose();
    }

    static IlgpuTensor Ilgpu(DeviceTensor t) => t as IlgpuTensor ?? throw new ArgumentException("tensor belongs to another backend");
    static ArrayView<ushort> V16(DeviceTensor t) => Require(t, DType.BF16).View<ushort>();
    static ArrayView<float> VF(DeviceTensor t) => Require(t, DType.F32).View<float>();
    static ArrayView<int> VI(DeviceTensor t) => Require(t, DType.I32).View<int>();

    static IlgpuTensor Require(DeviceTensor t, DType type)
    {
        var tensor = Ilgpu(t);
        if (tensor.DType != type) throw new ArgumentException($"expected a {type} tensor, got {tensor.DType}");
        return tensor;
    }

    static int Count(long count) => count <= int.MaxValue ? (int)count
        : throw new NotSupportedException($"{count} elements in one kernel launch (limit {int.MaxValue})");
}
