namespace Qzo.Compute.Cuda.Nvrtc;

/// <summary>
/// streaming_kernels.cu, compiled by NVRTC: z generation for the perturbed scales and the update (bit-identical to
/// the CPU's), the activations' elementwise kernels, the formats' GPTQ and AQLM dequantization (launched from their
/// folders through <see cref="Launch1D"/>), and --compute fp8's operands (<see cref="Fp8Kernels"/>). CudaBackend uses
/// them where they apply and the ILGPU kernels otherwise (another GPU, no NVRTC, QZO_KERNELS=ilgpu).
/// </summary>
sealed unsafe class StreamingKernels : IDisposable
{
    const uint Block = 256;
    const int RmsChunks = 4; // RMS_CHUNKS in the .cu
    // The formats' entry points (gptq_*, aqlm_*, bnb4_*) are launched from Quantization/<format>/Kernels.
    static readonly string[] Kernels =
        ["perturbed_copy_f32", "perturbed_copy_bf16", "zeroth_order_update", "gptq_dequantize_2bit", "gptq_dequantize_4bit",
         "gptq_dequantize_8bit", "add_bf16", "silu_mul_bf16", "rms_norm_bf16", "rms_norm_short_bf16", "layer_norm_bf16", "rope_bf16",
         "aqlm_dequantize_in8", "bnb4_dequantize_bf16",
         "modulate_bf16", "gated_add_bf16", "add_bias_bf16", "activation_bf16", "copy_rows_16b",
         "amax_bf16", "quantize_e4m3_bf16", "quantize_e4m3_transposed_bf16", "gptq_amax_from_span",
         "gptq_code_span_2bit", "gptq_code_span_4bit", "gptq_code_span_8bit",
         "gptq_dequantize_e4m3_2bit", "gptq_dequantize_e4m3_4bit", "gptq_dequantize_e4m3_8bit",
         "gptq_dequantize_e4m3_tiled_2bit", "gptq_dequantize_e4m3_tiled_4bit", "gptq_dequantize_e4m3_tiled_8bit",
         "bnb4_amax", "bnb4_dequantize_e4m3"];

    readonly NvrtcModule _module;
    readonly IntPtr _stream;

    public string Description { get; }

    StreamingKernels(NvrtcModule module, IntPtr stream)
    {
        _module = module;
        _stream = stream;
        Description = $"streaming kernels {module.Target}";
    }

    /// <summary>The compiled kernels, or null with the reason.</summary>
    public static StreamingKernels? TryCreate(int deviceOrdinal, IntPtr stream, out string reason)
    {
        // --fmad=false: z's double arithmetic must round exactly where the C# code rounds (docs/algorithm.md §5).
        var module = NvrtcModule.TryLoad(deviceOrdinal, "streaming_kernels.cu", Kernels, minimumMajor: 8, ["--fmad=false"], out reason);
        return module is null ? null : new StreamingKernels(module, stream);
    }

    public void PerturbedCopyToF32(IntPtr master, IntPtr output, long count, ulong seed, float scale, int tensor)
    {
        void** p = stackalloc void*[6];
        p[0] = &master; p[1] = &output; p[2] = &count; p[3] = &seed; p[4] = &scale; p[5] = &tensor;
        _module.Launch1D("perturbed_copy_f32", count, Block, _stream, p);
    }

    public void PerturbedCopyToBf16(IntPtr master, IntPtr output, long count, ulong seed, float scale, int tensor)
    {
        void** p = stackalloc void*[6];
        p[0] = &master; p[1] = &output; p[2] = &count; p[3] = &seed; p[4] = &scale; p[5] = &tensor;
        _module.Launch1D("perturbed_copy_bf16", count, Block, _stream, p);
    }

    public void ZerothOrderUpdate(IntPtr master, long count, ulong seed, int tensor, float step, float floor)
    {
        void** p = stackalloc void*[6];
        p[0] = &master; p[1] = &count; p[2] = &seed; p[3] = &tensor; p[4] = &step; p[5] = &floor;
        _module.Launch1D("zeroth_order_update", count, Block, _stream, p);
    }

    /// <summary>
    /// Entry point <paramref name="kernel"/> over <paramref name="threads"/> threads on the backend's stream: for the
    /// quantization formats' entry points of this module, launched from their folders (GptqStreamingKernel, AqlmStreamingKernel).
    /// </summary>
    internal void Launch1D(string kernel, long threads, void** parameters) => _module.Launch1D(kernel, threads, Block, _stream, parameters);

    /// <summary><paramref name="blocks"/> blocks of the module's block size (grid-stride kernels).</summary>
    internal void LaunchBlocks(string kernel, uint blocks, void** parameters) =>
        _module.Launch(kernel, blocks, 1, Block, _stream, parameters);

    /// <summary>A grid of blocks of <paramref name="blockX"/> × <paramref name="blockY"/> threads.</summary>
    internal void Launch2D(string kernel, uint gridX, uint gridY, uint blockX, uint blockY, void** parameters) =>
        _module.Launch2D(kernel, gridX, gridY, blockX, blockY, _stream, parameters);

    /// <summary>Zeroes <paramref name="count"/> 32-bit words on the module's stream.</summary>
    internal void Zero(IntPtr words, int count) =>
        Native.CudaModules.Check(Native.CudaModules.MemsetD32Async(words, 0, (nuint)count, _stream), "cuMemsetD32Async");

    // Called on every launch: no params array, no LINQ.
    internal static bool Aligned(IntPtr a, IntPtr b, IntPtr c = 0) => ((a | b | c) & 15) == 0;

    /// <summary>x += y over <paramref name="count"/> bf16 values; false (nothing done) when not 8-aligned.</summary>
    public bool TryAdd(IntPtr x, IntPtr y, long count)
    {
        if (count % 8 != 0 || !Aligned(x, y)) return false;
        long count8 = count / 8;
        void** p = stackalloc void*[3];
        p[0] = &x; p[1] = &y; p[2] = &count8;
        _module.Launch1D("add_bf16", count8, Block, _stream, p);
        return true;
    }

    /// <summary>gate = silu(gate)·up; false when not 8-aligned.</summary>
    public bool TrySiluMul(IntPtr gate, IntPtr up, long count)
    {
        if (count % 8 != 0 || !Aligned(gate, up)) return false;
        long count8 = count / 8;
        void** p = stackalloc void*[3];
        p[0] = &gate; p[1] = &up; p[2] = &count8;
        _module.Launch1D("silu_mul_bf16", count8, Block, _stream, p);
        return true;
    }

    /// <summary>
    /// y = RMSNorm(x)·weight per row; false for a dim that is not a multiple of 8 or above 8,192. Rows of 8 to 256 values
    /// whose dim / 8 is a power of two (the q/k norms over heads) share blocks, several rows to a warp; longer rows take a
    /// block each.
    /// </summary>
    public bool TryRmsNorm(IntPtr x, IntPtr weight, IntPtr y, int rows, int dim, float eps)
    {
        if (dim % 8 != 0 || dim / 8 > RmsChunks * Block || !Aligned(x, weight, y)) return false;
        if (rows == 0) return true;
        int lanes = dim / 8;
        if (lanes <= 32 && (lanes & (lanes - 1)) == 0)
        {
            void** s = stackalloc void*[6];
            s[0] = &x; s[1] = &weight; s[2] = &y; s[3] = &dim; s[4] = &rows; s[5] = &eps;
            long rowsPerBlock = Block / lanes, blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
            _module.Launch("rms_norm_short_bf16", (uint)blocks, 1, Block, _stream, s);
            return true;
        }
        void** p = stackalloc void*[5];
        p[0] = &x; p[1] = &weight; p[2] = &y; p[3] = &dim; p[4] = &eps;
        _module.Launch("rms_norm_bf16", (uint)rows, 1, Block, _stream, p);
        return true;
    }

    /// <summary>
    /// y = LayerNorm(x) per row, times <paramref name="weight"/> and plus <paramref name="bias"/> where not IntPtr.Zero;
    /// false for a dim that is not a multiple of 8 or above 8,192.
    /// </summary>
    public bool TryLayerNorm(IntPtr x, IntPtr weight, IntPtr bias, IntPtr y, int rows, int dim, float eps)
    {
        if (dim % 8 != 0 || dim / 8 > RmsChunks * Block || !Aligned(x, y, weight | bias)) return false;
        void** p = stackalloc void*[6];
        p[0] = &x; p[1] = &weight; p[2] = &bias; p[3] = &y; p[4] = &dim; p[5] = &eps;
        if (rows > 0) _module.Launch("layer_norm_bf16", (uint)rows, 1, Block, _stream, p);
        return true;
    }

    /// <summary>
    /// y = x·(1 + scale[b]) + shift[b] over [batch, tokens, dim] (shift and scale rows of sample b at Offset + b·Stride);
    /// false (nothing done) unless dim, the offsets and strides are multiples of 8 and the pointers 16-byte aligned.
    /// </summary>
    public bool TryModulate(IntPtr x, IntPtr shift, long shiftOffset, long shiftStride, IntPtr scale, long scaleOffset,
                            long scaleStride, IntPtr y, int batch, int tokens, int dim)
    {
        if (((shiftOffset | shiftStride | scaleOffset | scaleStride | (long)dim) & 7) != 0 || !Aligned(x, y, shift | scale)) return false;
        long count8 = (long)batch * tokens * dim / 8, shiftOffset8 = shiftOffset / 8, shiftStride8 = shiftStride / 8;
        long scaleOffset8 = scaleOffset / 8, scaleStride8 = scaleStride / 8;
        int dim8 = dim / 8;
        void** p = stackalloc void*[11];
        p[0] = &x; p[1] = &shift; p[2] = &scale; p[3] = &y; p[4] = &count8; p[5] = &dim8; p[6] = &tokens;
        p[7] = &shiftOffset8; p[8] = &shiftStride8; p[9] = &scaleOffset8; p[10] = &scaleStride8;
        _module.Launch1D("modulate_bf16", count8, Block, _stream, p);
        return true;
    }

    /// <summary>x += gate[b]·y over [batch, tokens, dim]; false under the conditions of <see cref="TryModulate"/>.</summary>
    public bool TryGatedAdd(IntPtr x, IntPtr gate, long gateOffset, long gateStride, IntPtr y, int batch, int tokens, int dim)
    {
        if (((gateOffset | gateStride | (long)dim) & 7) != 0 || !Aligned(x, y, gate)) return false;
        long count8 = (long)batch * tokens * dim / 8, gateOffset8 = gateOffset / 8, gateStride8 = gateStride / 8;
        int dim8 = dim / 8;
        void** p = stackalloc void*[8];
        p[0] = &x; p[1] = &gate; p[2] = &y; p[3] = &count8; p[4] = &dim8; p[5] = &tokens; p[6] = &gateOffset8; p[7] = &gateStride8;
        _module.Launch1D("gated_add_bf16", count8, Block, _stream, p);
        return true;
    }

    /// <summary>x[r, :] += bias over rows of <paramref name="dim"/> bf16 values; false unless dim is a multiple of 8.</summary>
    public bool TryAddBias(IntPtr x, IntPtr bias, int rows, int dim)
    {
        if (dim % 8 != 0 || !Aligned(x, bias)) return false;
        long count8 = (long)rows * dim / 8;
        int dim8 = dim / 8;
        void** p = stackalloc void*[4];
        p[0] = &x; p[1] = &bias; p[2] = &count8; p[3] = &dim8;
        _module.Launch1D("add_bias_bf16", count8, Block, _stream, p);
        return true;
    }

    /// <summary>x = activation(x) over <paramref name="count"/> bf16 values; false when not 8-aligned.</summary>
    public bool TryActivation(IntPtr x, Activation activation, long count)
    {
        if (count % 8 != 0 || !Aligned(x, x)) return false;
        long count8 = count / 8;
        int code = (int)activation;
        void** p = stackalloc void*[3];
        p[0] = &x; p[1] = &count8; p[2] = &code;
        _module.Launch1D("activation_bf16", count8, Block, _stream, p);
        return true;
    }

    /// <summary>
    /// Copies rows × columns elements of <paramref name="elementBytes"/> bytes between strided matrices (offsets and strides
    /// in elements); false unless every row, offset and stride is a multiple of 16 bytes and rows ≤ 65,535.
    /// </summary>
    public bool TryCopyRows(IntPtr source, long sourceOffset, long sourceStride, IntPtr destination, long destinationOffset,
                            long destinationStride, int rows, long columns, int elementBytes)
    {
        long bytes = columns * elementBytes;
        if (rows > 65535 || ((bytes | (sourceOffset | sourceStride | destinationOffset | destinationStride) * elementBytes) & 15) != 0
            || !Aligned(source, destination)) return false;
        long columns16 = bytes / 16, so = sourceOffset * elementBytes / 16, ss = sourceStride * elementBytes / 16;
        long d = destinationOffset * elementBytes / 16, ds = destinationStride * elementBytes / 16;
        void** p = stackalloc void*[7];
        p[0] = &source; p[1] = &destination; p[2] = &columns16; p[3] = &so; p[4] = &ss; p[5] = &d; p[6] = &ds;
        long blocks = (columns16 + Block - 1) / Block;
        if (blocks > int.MaxValue) return false;
        if (rows > 0 && blocks > 0) _module.Launch("copy_rows_16b", (uint)blocks, (uint)rows, Block, _stream, p);
        return true;
    }

    /// <summary>Rotary embedding in place; false for a head_dim that is not a multiple of 16.</summary>
    public bool TryRope(IntPtr x, IntPtr positions, IntPtr cos, IntPtr sin, int rows, int heads, int headDim)
    {
        if (headDim % 16 != 0 || rows > 65535 || !Aligned(x, cos, sin)) return false;
        void** p = stackalloc void*[6];
        p[0] = &x; p[1] = &positions; p[2] = &cos; p[3] = &sin; p[4] = &heads; p[5] = &headDim;
        long threads = (long)heads * (headDim / 16);
        if (rows > 0) _module.Launch("rope_bf16", (uint)((threads + Block - 1) / Block), (uint)rows, Block, _stream, p);
        return true;
    }

    public void Dispose() => _module.Dispose();
}
