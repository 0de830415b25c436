using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Qzo.Compute.Cuda.Kernels;
using Qzo.Compute.Cuda.Native;
using Qzo.Compute.Cuda.Nvrtc;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>
/// The GPU backend: ILGPU kernels for everything but matrix products, cuBLAS GemmEx (bf16 in, fp32
/// accumulation) for those, all on ILGPU's stream. Activations and frozen weights are bf16.
/// The same code runs on ILGPU's CPU accelerator (with a plain GEMM kernel) so CI can test every kernel.
/// </summary>
internal sealed partial class CudaBackend : IBackend
{
    readonly Context _context;
    readonly Accelerator _accelerator;
    readonly CublasGemm? _cublas;
    CublasLtBiasGemm? _biasGemm;
    DeviceTensor? _biasGemmWorkspace;
    bool _biasGemmTried;
    readonly bool _portableKernels = Environment.GetEnvironmentVariable("QZO_KERNELS") == "ilgpu"; // read once, at creation
    readonly KernelSet _kernels;
    readonly FlashAttention? _flash;
    readonly StreamingKernels? _streaming;
    readonly IntPtr _stream;
    readonly int _deviceOrdinal;
    readonly bool _portableAttention;
    IlgpuTensor? _scaleScratch;

    CudaBackend(Context context, Accelerator accelerator)
    {
        _context = context;
        _accelerator = accelerator;
        if (accelerator is CudaAccelerator cuda)
        {
            _stream = ((CudaStream)cuda.DefaultStream).StreamPtr;
            _cublas = new CublasGemm(_stream);
            StartupMarks.Mark("cublas");
            _deviceOrdinal = cuda.DeviceId;
            // QZO_ATTENTION=portable keeps the ILGPU attention kernels (for comparisons).
            string reason = "QZO_ATTENTION=portable";
            _portableAttention = Environment.GetEnvironmentVariable("QZO_ATTENTION") == "portable";
            if (!_portableAttention) _flash = FlashAttention.TryCreate(cuda.DeviceId, out reason);
            AttentionKernelName = _flash?.Description ?? $"portable attention ({reason})";
            StartupMarks.Mark("attention module");
            // QZO_KERNELS=ilgpu keeps the ILGPU z, update and dequantize kernels (for comparisons).
            reason = "QZO_KERNELS=ilgpu";
            if (Environment.GetEnvironmentVariable("QZO_KERNELS") != "ilgpu") _streaming = StreamingKernels.TryCreate(cuda.DeviceId,
                _stream, out reason);
            StreamingKernelName = _streaming?.Description ?? $"ILGPU streaming kernels ({reason})";
            StartupMarks.Mark("streaming module");
            Name = $"cuda ({accelerator.Name}, cuBLAS {_cublas.Version}, {AttentionKernelName}, {StreamingKernelName})";
        }
        else Name = $"ilgpu-{accelerator.AcceleratorType.ToString().ToLowerInvariant()} (simulated, tests only)";
        _kernels = new KernelSet(accelerator);
    }

    /// <summary>The first CUDA device; a clear error when there is none.</summary>
    public static CudaBackend Create() => Create(orNone: false)!;

    /// <summary>
    /// The first CUDA device, or null when the driver is unusable or finds no device (--device auto: one ILGPU context, not
    /// one to ask and another to use). A device that is present but fails later still fails with its error.
    /// </summary>
    public static CudaBackend? CreateIfPresent() => Create(orNone: true);

    static CudaBackend? Create(bool orNone)
    {
        Context context;
        StartupMarks.Mark("backend requested");
        try { context = Context.Create(builder => builder.Cuda().Optimize(OptimizationLevel.O2)); }
        catch (Exception e) when (
            e is DllNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            if (orNone) return null;
            throw new QzoException($"--device cuda: the CUDA driver could not be used ({e.GetBaseException().Message.Split('\n')[0]})");
        }
        var device = context.GetCudaDevices().Count > 0 ? context.GetCudaDevices()[0] : null;
        if (device is null)
        {
            context.Dispose();
            if (orNone) return null;
            throw new QzoException($"--device cuda: no CUDA device found ({NativeLibraries.DriverState()})");
        }
        StartupMarks.Mark("ilgpu context");
        var accelerator = device.CreateAccelerator(context);
        StartupMarks.Mark("cuda context");
        return new CudaBackend(context, accelerator);
    }

    /// <summary>Whether a CUDA device is present, without throwing (tests; --device auto uses <see cref="CreateIfPresent"/>).</summary>
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

    /// <summary>The device the quantization formats' ILGPU kernels load on, and the NVRTC streaming module when compiled.</summary>
    internal Accelerator Accelerator => _accelerator;
    internal StreamingKernels? Streaming => _streaming;
    /// <summary>The CUDA device and ILGPU's stream, for the formats' own NVRTC modules (0 on ILGPU's CPU accelerator).</summary>
    internal int DeviceOrdinal => _deviceOrdinal;
    internal IntPtr Stream => _stream;

    /// <summary>Which attention kernel serves head dims up to 128: NVRTC tensor cores, or why not.</summary>
    public string AttentionKernelName { get; } = "portable attention (ILGPU)";
    public string StreamingKernelName { get; } = "ILGPU streaming kernels";

    /// <summary>
    /// With QZO_PROFILE set (<see cref="OperationProfile"/>), each operation's time summed here by name: with 1 the device's
    /// (every operation synchronizes, which slows the run a little), with host the host's time to issue it.
    /// </summary>
    public Dictionary<string, (int Calls, double Seconds)>? Profile { get; } =
        OperationProfile.Current == OperationProfile.Mode.Off ? null : new();

    readonly System.Diagnostics.Stopwatch _profileClock = new();

    internal void Timed(string name, Action work)
    {
        if (Profile is null) { work(); return; }
        bool synchronize = OperationProfile.Current == OperationProfile.Mode.Synchronized;
        if (synchronize) _accelerator.Synchronize();
        _profileClock.Restart();
        work();
        if (synchronize) _accelerator.Synchronize();
        var (calls, seconds) = Profile.GetValueOrDefault(name);
        Profile[name] = (calls + 1, seconds + _profileClock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Threads per group of the row reductions: 256 on a GPU; one warp on ILGPU's CPU accelerator, whose barriers are slow.
    /// </summary>
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
        catch (Exception e) when (e.GetType().Name.Contains("OutOfMemory") || e.Message.Contains("out of memory",
            StringComparison.OrdinalIgnoreCase))
        {
            throw new QzoException($"out of GPU memory allocating {length * dtype.SizeInBytes() / (1 << 20)} MiB of {category} " +
                                   $"({Memory.CurrentTotal / (1 << 20)} MiB already in use by Qzo); use a smaller --batch-size or " +
                                   "--max-length");
        }
    }

    // ILGPU's CopyFromCPU/CopyToCPU(ref T, length) do not pin: a managed array the GC moved mid-copy would feed the
    // device garbage (e.g. token ids → out-of-bounds reads). Pin for the whole synchronous copy.
    public unsafe void Upload<T>(DeviceTensor destination, ReadOnlySpan<T> source, long offset = 0) where T : unmanaged
    {
        if (source.IsEmpty) return;
        var view = Ilgpu(destination).View<T>().SubView(offset, source.Length);
        fixed (T* pointer = source) view.CopyFromCPU(ref *pointer, source.Length);
    }

    public unsafe void Download<T>(DeviceTensor source, Span<T> destination, long offset = 0) where T : unmanaged
    {
        if (destination.IsEmpty) return;
        var view = Ilgpu(source).View<T>().SubView(offset, destination.Length);
        fixed (T* pointer = destination) view.CopyToCPU(ref *pointer, destination.Length);
    }

    public void Copy(DeviceTensor source, DeviceTensor destination, long count)
    {
        if (source.DType != destination.DType) throw new ArgumentException("copy between different element types");
        long bytes = count * source.DType.SizeInBytes();
        Ilgpu(source).View<byte>().SubView(0, bytes).CopyTo(Ilgpu(destination).View<byte>().SubView(0, bytes));
    }

    public void MatMulTransposedB(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool accumulate = false) =>
        Gemm(a, b, c, m, n, k, transposedB: true, accumulate);

    public void MatMulTransposedBAddBias(DeviceTensor a, DeviceTensor b, DeviceTensor bias, DeviceTensor c, int m, int n, int k)
    {
        Require(a, DType.BF16); Require(b, DType.BF16); Require(bias, DType.BF16); Require(c, DType.BF16);
        if (m == 0 || n == 0) return;
        bool fused = false;
        if (BiasGemm is { } lt)
            Timed("gemm", () => fused = lt.TryMultiplyAddBias(Ilgpu(a).Pointer, Ilgpu(b).Pointer, Ilgpu(bias).Pointer, Ilgpu(c).Pointer,
                                                              m, n, k));
        if (fused) return;
        MatMulTransposedB(a, b, c, m, n, k);
        AddBiasInPlace(c, bias, m, n);
    }

    /// <summary>Whether <see cref="MatMulTransposedBAddBias"/> adds the bias in cuBLASLt's epilogue (not with QZO_KERNELS=ilgpu).</summary>
    public bool BiasEpilogue => BiasGemm is not null;

    CublasLtBiasGemm? BiasGemm
    {
        get
        {
            if (_biasGemmTried || _cublas is null) return _biasGemm;
            _biasGemmTried = true;
            if (_portableKernels) return null;
            const long workspaceBytes = 32L << 20; // cuBLAS's own default workspace on Hopper
            _biasGemmWorkspace = Allocate(DType.F32, workspaceBytes / 4, MemoryCategory.Workspace);
            _biasGemm = CublasLtBiasGemm.TryCreate(_stream, Ilgpu(_biasGemmWorkspace).Pointer, workspaceBytes, out _);
            if (_biasGemm is null) { _biasGemmWorkspace.Dispose(); _biasGemmWorkspace = null; }
            return _biasGemm;
        }
    }

    public void MatMul(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool accumulate = false) =>
        Gemm(a, b, c, m, n, k, transposedB: false, accumulate);

    void Gemm(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool transposedB, bool accumulate)
    {
        Timed("gemm", () =>
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
        });
    }

    public void EmbeddingGather(DeviceTensor table, DeviceTensor ids, DeviceTensor output, int rows, int dim)
    {
        Timed("gather", () =>
        {
            Require(table, DType.BF16); Require(output, DType.BF16);
            _kernels.GatherRows(Count((long)rows * dim), V16(table), VI(ids), V16(output), dim);
        });
    }

    public void RmsNorm(DeviceTensor x, DeviceTensor weight, DeviceTensor y, int rows, int dim, float eps)
    {
        Timed("rmsnorm", () =>
        {
            Require(weight, DType.BF16);
            if (_streaming is not null && _streaming.TryRmsNorm(Require(x, DType.BF16).Pointer, Ilgpu(weight).Pointer,
                Require(y, DType.BF16).Pointer, rows, dim, eps)) return;
            if (dim % 2 == 0)
                _kernels.RmsNormPairs(new KernelConfig(rows, ReductionGroup), Pairs(x, (long)rows * dim), Pairs(weight, dim),
                    Pairs(y, (long)rows * dim), dim / 2, eps);
            else _kernels.RmsNorm(new KernelConfig(rows, ReductionGroup), V16(x), V16(weight), V16(y), dim, eps);
        });
    }

    public void ApplyRope(DeviceTensor x, DeviceTensor positions, DeviceTensor cos, DeviceTensor sin, int rows, int heads, int headDim) =>
        Timed("rope", () =>
    {
        if (_streaming is not null && _streaming.TryRope(Require(x, DType.BF16).Pointer, Ilgpu(positions).Pointer,
            Require(cos, DType.F32).Pointer, Require(sin, DType.F32).Pointer, rows, heads, headDim)) return;
        if (headDim % 4 == 0)
            _kernels.RopePairs(Count((long)rows * heads * (headDim / 4)), Pairs(x, (long)rows * heads * headDim), VI(positions), VF(cos),
                VF(sin), heads, headDim);
        else _kernels.Rope(Count((long)rows * heads * (headDim / 2)), V16(x), VI(positions), VF(cos), VF(sin), heads, headDim);
    });

    public void CausalAttention(DeviceTensor q, DeviceTensor k, DeviceTensor v, DeviceTensor keyMask, DeviceTensor output,
                                int batch, int seq, int heads, int kvHeads, int headDim, int slidingWindow, float scale = 0)
    {
        Timed("attention", () =>
        {
            if (heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads cannot share {kvHeads} key/value heads");
            if (slidingWindow < 0) throw new ArgumentOutOfRangeException(nameof(slidingWindow),
                "the sliding window must be positive, or 0 for none");
            if (headDim > AttentionKernel.MaxHeadDim) throw new QzoException(
                $"head_dim {headDim} exceeds the attention kernel's limit of {AttentionKernel.MaxHeadDim}");
            if (_flash is not null && _flash.Supports(headDim, batch, heads))
            {
                _flash.Launch(Ilgpu(q).Pointer, Ilgpu(k).Pointer, Ilgpu(v).Pointer, Ilgpu(keyMask).Pointer, Ilgpu(output).Pointer,
                              batch, seq, heads, kvHeads, headDim, slidingWindow, scale, _stream);
                return;
            }
            var shape = new AttentionKernel.Shape(batch, seq, heads, kvHeads, headDim, scale == 0 ? 1.0f / MathF.Sqrt(headDim) : scale,
                                                  slidingWindow);
            if (headDim <= WarpAttentionKernel.MaxHeadDim)
            {
                // On ILGPU's CPU accelerator every warp shuffle is a rendezvous of 32 threads: small groups and tiles there.
                int warps = IsCuda ? 8 : 2, keyTile = IsCuda ? WarpAttentionKernel.MaxKeyTile : 16,
                    queryTile = WarpAttentionKernel.QueryTile(warps);
                int tiles = (seq + queryTile - 1) / queryTile;
                _kernels.WarpAttention(new KernelConfig(batch * heads * tiles, warps * 32), V16(q), V16(k), V16(v), VI(keyMask),
                    V16(output), shape, keyTile);
            }
            else
            {
                int tiles = (seq + AttentionKernel.QueryTile - 1) / AttentionKernel.QueryTile;
                _kernels.Attention(new KernelConfig(batch * heads * tiles, AttentionKernel.QueryTile), V16(q), V16(k), V16(v), VI(keyMask),
                    V16(output), shape);
            }
        });
    }

    public void CachedAttention(DeviceTensor q, DeviceTensor keys, DeviceTensor values, DeviceTensor keyMask, DeviceTensor output,
                                int batch, int newTokens, int cacheLength, int maxLength, int heads, int kvHeads, int headDim,
                                int slidingWindow, float scale = 0)
    {
        Timed("cached-attention", () =>
        {
            if (heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads cannot share {kvHeads} key/value heads");
            if (slidingWindow < 0) throw new ArgumentOutOfRangeException(nameof(slidingWindow),
                "the sliding window must be positive, or 0 for none");
            if (newTokens > cacheLength || cacheLength > maxLength)
                throw new ArgumentOutOfRangeException(nameof(cacheLength),
                    $"{newTokens} new tokens, {cacheLength} cached, room for {maxLength}");
            if (headDim > KvCacheKernels.MaxHeadDim) throw new QzoException(
                $"head_dim {headDim} exceeds the cached attention kernel's limit of {KvCacheKernels.MaxHeadDim}");
            if (batch == 0 || newTokens == 0) return;
            var shape = new KvCacheKernels.Shape(newTokens, cacheLength, maxLength, heads, kvHeads, headDim,
                                                 scale == 0 ? 1.0f / MathF.Sqrt(headDim) : scale, slidingWindow);
            // On ILGPU's CPU accelerator each thread is simulated: the fewest threads head_dim allows.
            int threads = KvCacheKernels.GroupSize(headDim, IsCuda ? KvCacheKernels.KeyTile : 32);
            _kernels.CachedAttention(new KernelConfig(batch * heads * newTokens, threads), V16(q), V16(keys), V16(values), VI(keyMask),
                V16(output), shape);
        });
    }

    public void AppendToCache(DeviceTensor rows, DeviceTensor cache, int batch, int count, int start, int maxLength, int width) =>
        Timed("cache-append", () =>
    {
        if (start + count > maxLength) throw new ArgumentOutOfRangeException(nameof(count),
            $"{count} rows at slot {start} overflow a cache of {maxLength}");
        _kernels.AppendToCache(Count((long)batch * count * width), V16(rows), V16(cache), count, start, maxLength, width);
    });

    public void LayerNorm(DeviceTensor x, DeviceTensor? weight, DeviceTensor? bias, DeviceTensor y, int rows, int dim, float eps)
    {
        Timed("layernorm", () =>
        {
            if (_streaming is not null && _streaming.TryLayerNorm(Require(x, DType.BF16).Pointer,
                    weight is null ? IntPtr.Zero : Require(weight, DType.BF16).Pointer,
                    bias is null ? IntPtr.Zero : Require(bias, DType.BF16).Pointer, Require(y, DType.BF16).Pointer, rows, dim, eps))
                return;
            var unused = V16(x); // a placeholder view for an absent weight or bias; the kernel does not read it
            _kernels.LayerNorm(new KernelConfig(rows, ReductionGroup), V16(x), weight is null ? unused : V16(weight),
                               bias is null ? unused : V16(bias), V16(y), dim, eps, weight is null ? 0 : 1, bias is null ? 0 : 1);
        });
    }

    public void SiluMulInPlace(DeviceTensor gate, DeviceTensor up, long count) => Timed("silu-mul", () =>
    {
        if (_streaming is not null && _streaming.TrySiluMul(Require(gate, DType.BF16).Pointer, Require(up, DType.BF16).Pointer,
            count)) return;
        if (count % 2 == 0) _kernels.SiluMulPairs(Count(count / 2), Pairs(gate, count), Pairs(up, count));
        else _kernels.SiluMul(Count(count), V16(gate), V16(up));
    });

    public void ReluInPlace(DeviceTensor x, long count) => Timed("relu", () => _kernels.Relu(Count(count), V16(x)));

    public void AddInPlace(DeviceTensor x, DeviceTensor y, long count) => Timed("add", () =>
    {
        if (_streaming is not null && _streaming.TryAdd(Require(x, DType.BF16).Pointer, Require(y, DType.BF16).Pointer, count)) return;
        if (count % 2 == 0) _kernels.AddPairs(Count(count / 2), Pairs(x, count), Pairs(y, count));
        else _kernels.Add(Count(count), V16(x), V16(y));
    });

    /// <summary>The first <paramref name="count"/> bf16 values of t as count/2 32-bit pairs.</summary>
    internal static ArrayView<uint> Pairs(DeviceTensor t, long count) => V16(t).SubView(0, count).Cast<uint>();

    public void AddBiasInPlace(DeviceTensor x, DeviceTensor bias, int rows, int dim) => Timed("bias", () =>
    {
        if (rows == 0 || dim == 0) return;
        if (_streaming is not null && _streaming.TryAddBias(Require(x, DType.BF16).Pointer, Require(bias, DType.BF16).Pointer, rows, dim))
            return;
        _kernels.AddBias(Count((long)rows * dim), V16(x), V16(bias), dim);
    });

    public void CrossEntropyRows(DeviceTensor logits, DeviceTensor targets, DeviceTensor nll, int rows, int vocab)
    {
        Timed("cross-entropy", () =>
        {
            if (rows == 0) return;
            _kernels.CrossEntropy(new KernelConfig(rows, ReductionGroup), VF(logits), VI(targets), VF(nll), vocab);
        });
    }

    public void PerturbedCopy(DeviceTensor master, Perturbation p, int tensorIndex, DeviceTensor output, long count)
    {
        Timed("perturbed-copy", () =>
        {
            Require(master, DType.F32);
            if (_streaming is not null)
            {
                if (output.DType == DType.F32) _streaming.PerturbedCopyToF32(Ilgpu(master).Pointer, Require(output, DType.F32).Pointer,
                    count, p.Seed, p.Scale, tensorIndex);
                else _streaming.PerturbedCopyToBf16(Ilgpu(master).Pointer, Require(output, DType.BF16).Pointer, count, p.Seed, p.Scale,
                    tensorIndex);
            }
            else if (output.DType == DType.F32) _kernels.PerturbedCopyToF32(Count(count), VF(master), VF(output), p.Seed, p.Scale,
                tensorIndex);
            else _kernels.PerturbedCopyToBf16(Count(count), VF(master), V16(output), p.Seed, p.Scale, tensorIndex);
        });
    }

    public void ZerothOrderUpdate(DeviceTensor master, ulong seed, int tensorIndex, float step, float? floor, long count) => Timed("update",
        () =>
    {
        if (_streaming is not null) _streaming.ZerothOrderUpdate(Require(master, DType.F32).Pointer, count, seed, tensorIndex, step,
            floor ?? float.NegativeInfinity);
        else _kernels.ZerothOrderUpdate(Count(count), VF(master), seed, tensorIndex, step, floor ?? float.NegativeInfinity);
    });

    /// <summary>
    /// A linear's scales as one forward pass sees them: the fp32 master itself when unperturbed, else master + p.Scale·z
    /// drawn once per scale into a scratch buffer shared by every layer.
    /// </summary>
    internal ArrayView<float> EffectiveScales(DeviceTensor scales, Perturbation p, int tensorIndex, long count)
    {
        if (p.IsNone) return VF(scales);
        if (_scaleScratch is null || _scaleScratch.Length < count)
        {
            _scaleScratch?.Dispose();
            _scaleScratch = (IlgpuTensor)Allocate(DType.F32, count, MemoryCategory.Workspace);
        }
        PerturbedCopy(scales, p, tensorIndex, _scaleScratch, count);
        return _scaleScratch.View<float>().SubView(0, count);
    }

    public void FillRandom(DeviceTensor t, RandomFill kind, ulong seed, int stream, float a, float b, long count)
    {
        // Launches are split so each index fits an int; the stream index continues across pieces.
        const long piece = 1L << 30;
        for (long start = 0; start < count; start += piece)
        {
            int n = (int)Math.Min(piece, count - start);
            switch (kind)
            {
                case RandomFill.Bits: _kernels.FillBits(n, VI(t).SubView(start, n), seed ^ (ulong)start, stream); break;
                case RandomFill.Uniform: _kernels.FillUniform(n, VF(t).SubView(start, n), seed ^ (ulong)start, stream, a, b); break;
                default:
                    if (t.DType == DType.F32) _kernels.FillGaussianF32(n, VF(t).SubView(start, n), seed ^ (ulong)start, stream, a, b);
                    else _kernels.FillGaussianBf16(n, V16(t).SubView(start, n), seed ^ (ulong)start, stream, a, b);
                    break;
            }
        }
    }

    public void Synchronize() => _accelerator.Synchronize();

    public void Dispose()
    {
        // Disposal runs while an earlier error unwinds too; a failure here must not hide that error.
        try
        {
            _scaleScratch?.Dispose();
            _f32Scratch?.Dispose();
            _convColumns?.Dispose();
            _groupStatistics?.Dispose();
            _attentionScores?.Dispose();
            _attentionProbabilities?.Dispose();
            _cublas?.Dispose();
            _flash?.Dispose();
            _fullFlash?.Dispose();
            _streaming?.Dispose();
            _biasGemm?.Dispose();
            _biasGemmWorkspace?.Dispose();
            DisposeFp8();
            _accelerator.Dispose();
            _context.Dispose();
        }
        catch (Exception e) { Console.Error.WriteLine($"warning: releasing the GPU failed: {e.Message}"); }
    }

    internal static IlgpuTensor Ilgpu(DeviceTensor t) =>
        t as IlgpuTensor ?? throw new ArgumentException("tensor belongs to another backend");
    internal static ArrayView<ushort> V16(DeviceTensor t) => Require(t, DType.BF16).View<ushort>();
    internal static ArrayView<float> VF(DeviceTensor t) => Require(t, DType.F32).View<float>();
    internal static ArrayView<int> VI(DeviceTensor t) => Require(t, DType.I32).View<int>();

    internal static IlgpuTensor Require(DeviceTensor t, DType type)
    {
        var tensor = Ilgpu(t);
        if (tensor.DType != type) throw new ArgumentException($"expected a {type} tensor, got {tensor.DType}");
        return tensor;
    }

    internal static int Count(long count) => count <= int.MaxValue ? (int)count
        : throw new NotSupportedException($"{count} elements in one kernel launch (limit {int.MaxValue})");
}
