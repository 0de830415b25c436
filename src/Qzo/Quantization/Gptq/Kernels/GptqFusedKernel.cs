using Qzo.Compute.Cuda.Nvrtc;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// The fused GPTQ 4-bit dequantize-and-multiply of Compute/Cuda/Nvrtc/gptq_fused.cu: y (+)= x·W with W's bf16 values formed
/// in registers from the packed codes, never written to memory. Its own NVRTC module, compiled when a linear first takes it
/// and kept as long as the backend's CUDA context.
/// </summary>
sealed unsafe class GptqFusedKernel
{
    const int Stages = 3, StageInputs = 64; // STAGES and BK in gptq_fused.cu

    /// <summary>A block tile of gptq_fused.cu: <see cref="Rows"/> × <see cref="Columns"/> outputs, <see cref="Threads"/> threads.</summary>
    public sealed record Tile(string Name, int Rows, int Columns, int Threads)
    {
        /// <summary>FusedLayout&lt;BM, BN&gt;::SHARED_BYTES in gptq_fused.cu (a launch with less traps).</summary>
        public int SharedBytes => Stages * (Rows * (StageInputs + 8) * 2 + StageInputs / 8 * Columns * 4 + Columns * 4 + Columns / 2 +
                                            StageInputs * 4);

        /// <summary>The entry for g_idx = i / group (a multiple of 64), or the one that reads any g_idx.</summary>
        public string Entry(bool sequentialGroups) => sequentialGroups ? $"gptq_fused_4bit_{Name}" : $"gptq_fused_4bit_{Name}_gidx";
    }

    public static readonly IReadOnlyList<Tile> Tiles =
        [new("64x128", 64, 128, 128), new("128x128", 128, 128, 256), new("64x64", 64, 64, 128)];

    public static Tile? TileNamed(string name) => Tiles.FirstOrDefault(t => t.Name == name);

    /// <summary>Why the kernel cannot serve <paramref name="shape"/>, or null.</summary>
    public static string? Unsupported(GptqKernelShape shape) =>
        shape.Bits != 4 ? $"{shape.Bits}-bit (the fused kernel is 4-bit only)"
        : shape.InFeatures % 8 != 0 || shape.OutFeatures % 8 != 0 ? $"{shape.InFeatures}×{shape.OutFeatures} is not a multiple of 8"
        : null;

    /// <summary>Whether a stage of 64 inputs lies in one group, so the faster entry applies.</summary>
    public static bool SequentialGroups(GptqKernelShape shape) =>
        shape.SequentialGroupSize > 0 && shape.SequentialGroupSize % StageInputs == 0;

    readonly NvrtcModule _module;
    readonly IntPtr _stream;

    public string Description { get; }

    GptqFusedKernel(NvrtcModule module, IntPtr stream)
    {
        _module = module;
        _stream = stream;
        Description = $"gptq fused {module.Target}";
    }

    /// <summary>The compiled kernels, or null with the reason (no NVRTC, a GPU before sm_80, a compile error).</summary>
    public static GptqFusedKernel? TryCreate(int deviceOrdinal, IntPtr stream, out string reason)
    {
        var entries = Tiles.SelectMany(t => new[] { t.Entry(true), t.Entry(false) });
        var module = NvrtcModule.TryLoad(deviceOrdinal, "gptq_fused.cu", entries, minimumMajor: 8, [], out reason);
        return module is null ? null : new GptqFusedKernel(module, stream);
    }

    /// <param name="scales">the effective (perturbed) fp32 scales [groups, n]</param>
    /// <param name="groupSize">the sequential group size; read only when <paramref name="sequentialGroups"/></param>
    public void Launch(Tile tile, bool sequentialGroups, IntPtr x, IntPtr qweight, IntPtr qzeros, IntPtr scales, IntPtr gIdx, IntPtr y,
                       int rows, int n, int k, int groupSize, bool zerosOffsetByOne, bool accumulate)
    {
        int offset = zerosOffsetByOne ? 1 : 0, add = accumulate ? 1 : 0;
        void** p = stackalloc void*[12];
        p[0] = &x; p[1] = &qweight; p[2] = &qzeros; p[3] = &scales; p[4] = &gIdx; p[5] = &y;
        p[6] = &rows; p[7] = &n; p[8] = &k; p[9] = &groupSize; p[10] = &offset; p[11] = &add;
        uint blocksX = (uint)((rows + tile.Rows - 1) / tile.Rows), blocksY = (uint)((n + tile.Columns - 1) / tile.Columns);
        if (blocksY > 65535)
            throw new ArgumentOutOfRangeException(nameof(n), $"{n} outputs are too many for one launch of {tile.Entry(true)}");
        if (rows > 0) _module.Launch(tile.Entry(sequentialGroups), blocksX, blocksY, (uint)tile.Threads, tile.SharedBytes, _stream, p);
    }
}
