using Qzo.Compute.Cuda.Native;

namespace Qzo.Compute.Cuda.Nvrtc;

/// <summary>
/// --compute fp8's operand kernels in the streaming module (streaming_kernels.cu, FP8 section): the amax of a bf16 tensor
/// and its e4m3 codes under the per-tensor scaling, plain or transposed (Fp8E4M3 on the CPU gives the same bytes), and
/// GPTQ's codes straight from its packed weights.
/// </summary>
sealed unsafe class Fp8Kernels
{
    const uint Block = 256;         // the streaming module's block size
    const uint AmaxBlocks = 1024;   // grid-stride: enough blocks to fill an H100 several times over
    static readonly string[] GptqCodes =
        ["", "", "gptq_dequantize_e4m3_2bit", "", "gptq_dequantize_e4m3_4bit", "", "", "", "gptq_dequantize_e4m3_8bit"];
    readonly StreamingKernels _module;

    Fp8Kernels(StreamingKernels module) => _module = module;

    /// <summary>The kernels, or null with the reason (e4m3 tensor cores need sm_89: Ada, Hopper and later).</summary>
    public static Fp8Kernels? TryCreate(int deviceOrdinal, StreamingKernels? module, out string reason)
    {
        if (module is null)
        {
            reason = "the CUDA C streaming kernels are not in use (QZO_KERNELS=ilgpu, or NVRTC is missing)";
            return null;
        }
        NativeLibraries.EnsureResolver();
        var (_, major, minor) = CudaModules.ComputeCapability(deviceOrdinal);
        reason = major * 10 + minor < 89
            ? $"fp8 tensor cores need compute capability 8.9 or newer (Ada, Hopper); this GPU is {major}.{minor}" : "";
        return reason.Length > 0 ? null : new Fp8Kernels(module);
    }

    /// <summary>Zeroes <paramref name="count"/> 32-bit words (the amax slots, before <see cref="Amax"/>).</summary>
    public void Zero(IntPtr words, int count) => _module.Zero(words, count);

    /// <summary>*amaxBits = max(*amaxBits, |x| as float bits) over x[0..count) (bf16).</summary>
    public void Amax(IntPtr x, long count, IntPtr amaxBits)
    {
        void** p = stackalloc void*[3];
        p[0] = &x; p[1] = &count; p[2] = &amaxBits;
        _module.LaunchBlocks("amax_bf16", (uint)Math.Clamp((count / 8 + Block - 1) / Block, 1, AmaxBlocks), p);
    }

    /// <summary>codes[i] = e4m3(x[i]·448/amax) for count bf16 values (a multiple of 8); *scale = amax/448.</summary>
    public void Quantize(IntPtr x, long count, IntPtr amaxBits, IntPtr codes, IntPtr scale)
    {
        if (count % 8 != 0) throw new ArgumentException($"{count} values: the fp8 conversion takes multiples of 8", nameof(count));
        long count8 = count / 8;
        void** p = stackalloc void*[5];
        p[0] = &x; p[1] = &count8; p[2] = &amaxBits; p[3] = &codes; p[4] = &scale;
        _module.Launch1D("quantize_e4m3_bf16", Math.Max(count8, 1), p);
    }

    /// <summary>codes[c, r] = e4m3(x[r, c]·448/amax) for x [rows, cols] (bf16); *scale = amax/448.</summary>
    public void QuantizeTransposed(IntPtr x, int rows, int cols, IntPtr amaxBits, IntPtr codes, IntPtr scale)
    {
        void** p = stackalloc void*[6];
        p[0] = &x; p[1] = &rows; p[2] = &cols; p[3] = &amaxBits; p[4] = &codes; p[5] = &scale;
        const uint tile = 32;
        _module.Launch2D("quantize_e4m3_transposed_bf16", ((uint)cols + tile - 1) / tile, ((uint)rows + tile - 1) / tile, tile, 8, p);
    }

    /// <summary>Whether <see cref="QuantizeGptq"/> takes this layout: 2, 4 or 8 bits, whole 16-byte code rows.</summary>
    public static bool SupportsGptq(int bits, int inFeatures, int outFeatures) =>
        bits is 2 or 4 or 8 && outFeatures % 4 == 0 && inFeatures % 16 == 0;

    static readonly string[] GptqSpan = ["", "", "gptq_code_span_2bit", "", "gptq_code_span_4bit", "", "", "", "gptq_code_span_8bit"];

    /// <summary>
    /// span[g·out + o] = the largest |q − zero| of GPTQ group g and output o (u32 [groups, out], zeroed by the caller): once
    /// per linear, so that <see cref="QuantizeGptq"/> finds each pass's amax from the scales alone.
    /// </summary>
    public void GptqCodeSpan(IntPtr qweight, IntPtr qzeros, IntPtr gIdx, int inFeatures, int outFeatures, int bits, bool zerosOffsetByOne,
                             IntPtr span)
    {
        int offset = zerosOffsetByOne ? 1 : 0;
        long threads = (long)(inFeatures / (32 / bits)) * (outFeatures / 4);
        void** p = stackalloc void*[7];
        p[0] = &qweight; p[1] = &qzeros; p[2] = &gIdx; p[3] = &inFeatures; p[4] = &outFeatures; p[5] = &offset; p[6] = &span;
        _module.Launch1D(GptqSpan[bits], threads, p);
    }

    /// <summary>
    /// GPTQ's weights (under the effective scales) as e4m3 codes [out, in]: their amax into *amaxBits (zeroed by the caller)
    /// from the scales and the linear's <see cref="GptqCodeSpan"/> (the same bits as a pass over the weights), then the codes
    /// and *scale, equal to <see cref="QuantizeTransposed"/> over the bf16 dequantization.
    /// </summary>
    /// <param name="scaleCount">groups · out: the effective scales' count, and the span's.</param>
    public void QuantizeGptq(IntPtr qweight, IntPtr qzeros, IntPtr scales, IntPtr gIdx, IntPtr span, long scaleCount, int inFeatures,
                             int outFeatures, int bits, bool zerosOffsetByOne, IntPtr amaxBits, IntPtr codes, IntPtr scale)
    {
        void** a = stackalloc void*[4];
        a[0] = &scales; a[1] = &span; a[2] = &scaleCount; a[3] = &amaxBits;
        _module.LaunchBlocks("gptq_amax_from_span", (uint)Math.Clamp((scaleCount + Block - 1) / Block, 1, AmaxBlocks), a);
        int offset = zerosOffsetByOne ? 1 : 0;
        void** p = stackalloc void*[10];
        p[0] = &qweight; p[1] = &qzeros; p[2] = &scales; p[3] = &gIdx; p[4] = &inFeatures; p[5] = &outFeatures; p[6] = &offset;
        p[7] = &amaxBits; p[8] = &codes; p[9] = &scale;
        if (!_tiledCodes) _module.Launch1D(GptqCodes[bits], (long)(inFeatures / (32 / bits)) * (outFeatures / 4), p);
        else _module.Launch2D(GptqTiledCodes[bits], (uint)(inFeatures + TileInputs - 1) / TileInputs,
                              (uint)(outFeatures + TileOutputs - 1) / TileOutputs, Block, 1, p);
    }

    static readonly string[] GptqTiledCodes =
        ["", "", "gptq_dequantize_e4m3_tiled_2bit", "", "gptq_dequantize_e4m3_tiled_4bit", "", "", "", "gptq_dequantize_e4m3_tiled_8bit"];
    const int TileInputs = 128, TileOutputs = 64; // E4M3_TILE_INPUTS, E4M3_TILE_OUTPUTS

    /// <summary>
    /// QZO_FP8_GPTQ_CODES=tiled: the shared-memory tiled codes kernel instead of the one-thread-a-word one (the same codes,
    /// checked on the CPU's emulation; not yet timed or run on a GPU, so not the default). Read when the kernels load
    /// (--compute fp8's first product), where a value other than words or tiled is a clear error.
    /// </summary>
    readonly bool _tiledCodes = TiledCodesFrom(Environment.GetEnvironmentVariable("QZO_FP8_GPTQ_CODES"));

    internal static bool TiledCodesFrom(string? value) =>
        (string.IsNullOrEmpty(value) ? "words" : value.Trim().ToLowerInvariant()) switch
    {
        "words" => false,
        "tiled" => true,
        _ => throw new QzoException($"QZO_FP8_GPTQ_CODES={value}: expected words (the default) or tiled"),
    };

    /// <summary>Whether <see cref="QuantizeBnb4"/> takes this layout: counts and blocks of whole 32-value steps.</summary>
    public static bool SupportsBnb4(long count, int blockSize) => count % 32 == 0 && blockSize % 32 == 0;

    /// <summary>
    /// bitsandbytes 4-bit weights (under the effective absmax) as e4m3 codes in their own [out, in] order: their amax into
    /// *amaxBits (zeroed by the caller), then the codes and *scale, equal to <see cref="Quantize"/> over the bf16
    /// dequantization.
    /// </summary>
    public void QuantizeBnb4(IntPtr packed, IntPtr code, IntPtr absmax, long count, int blockSize, IntPtr amaxBits, IntPtr codes,
                             IntPtr scale)
    {
        long count32 = count / 32;
        void** p = stackalloc void*[8];
        p[0] = &packed; p[1] = &code; p[2] = &absmax; p[3] = &count32; p[4] = &blockSize; p[5] = &amaxBits;
        _module.Launch1D("bnb4_amax", count32, p);
        p[6] = &codes; p[7] = &scale;
        _module.Launch1D("bnb4_dequantize_e4m3", count32, p);
    }
}
