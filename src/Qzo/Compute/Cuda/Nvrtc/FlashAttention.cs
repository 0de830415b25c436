namespace Qzo.Compute.Cuda.Nvrtc;

/// <summary>
/// The tensor-core attention of flash_attention.cu, compiled by NVRTC for the device in ILGPU's context and launched
/// on ILGPU's stream. Serves head_dim 32, 64, 96 and 128 on sm_80 and newer; everything else takes the ILGPU kernels.
/// </summary>
sealed unsafe class FlashAttention : IDisposable
{
    public const int QueryTile = 64, Threads = 128;
    static readonly int[] HeadDims = [32, 64, 96, 128];

    readonly NvrtcModule _module;

    public string Description { get; }

    FlashAttention(NvrtcModule module)
    {
        _module = module;
        Description = $"flash attention {module.Target}";
    }

    /// <summary>The compiled kernels, or null with the reason (no NVRTC, an old GPU, a compile error).</summary>
    public static FlashAttention? TryCreate(int deviceOrdinal, out string reason)
    {
        var module = NvrtcModule.TryLoad(deviceOrdinal, "flash_attention.cu", HeadDims.Select(KernelName), minimumMajor: 8, [], out reason);
        if (module is null && reason.StartsWith("flash_attention.cu needs", StringComparison.Ordinal)) reason = "tensor-core attention "
            + reason["flash_attention.cu ".Length..];
        return module is null ? null : new FlashAttention(module);
    }

    static string KernelName(int headDim) => $"flash_attention_hd{headDim}";

    public bool Supports(int headDim, int batch, int heads) => HeadDims.Contains(headDim) && (long)batch * heads <= 65535;

    public void Launch(IntPtr q, IntPtr k, IntPtr v, IntPtr keyMask, IntPtr output,
                       int batch, int seq, int heads, int kvHeads, int headDim, int window, float scale, IntPtr stream)
    {
        float scaleLog2 = (float)(scale == 0 ? 1.4426950408889634 / Math.Sqrt(headDim) : 1.4426950408889634 * scale); // 0: 1/√headDim
        void** parameters = stackalloc void*[10];
        parameters[0] = &q; parameters[1] = &k; parameters[2] = &v; parameters[3] = &keyMask; parameters[4] = &output;
        parameters[5] = &seq; parameters[6] = &heads; parameters[7] = &kvHeads; parameters[8] = &scaleLog2; parameters[9] = &window;
        uint tiles = (uint)((seq + QueryTile - 1) / QueryTile);
        _module.Launch(KernelName(headDim), tiles, (uint)(batch * heads), Threads, stream, parameters);
    }

    public void Dispose() => _module.Dispose();
}
