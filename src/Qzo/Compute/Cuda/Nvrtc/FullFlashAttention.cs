namespace Qzo.Compute.Cuda.Nvrtc;

/// <summary>
/// The full (non-causal) tensor-core attention of flash_attention.cu (its -DFULL_ATTENTION module): the image models'
/// joint attention and the text encoders, head_dim 32, 64, 96 and 128 on sm_80 and newer, with T5's fp32 position bias
/// or none. Compiled when an image model first needs it; launched on ILGPU's stream.
/// </summary>
sealed unsafe class FullFlashAttention : IDisposable
{
    public const int QueryTile = 64, Threads = 128;
    static readonly int[] HeadDims = [32, 64, 96, 128];

    readonly NvrtcModule _module;

    public string Description { get; }

    FullFlashAttention(NvrtcModule module)
    {
        _module = module;
        Description = $"full flash attention {module.Target}";
    }

    /// <summary>The compiled kernels, or null with the reason (no NVRTC, an old GPU, a compile error).</summary>
    public static FullFlashAttention? TryCreate(int deviceOrdinal, out string reason)
    {
        var kernels = HeadDims.SelectMany(d => new[] { KernelName(d, bias: false), KernelName(d, bias: true) });
        var module = NvrtcModule.TryLoad(deviceOrdinal, "flash_attention.cu", kernels, minimumMajor: 8, ["-DFULL_ATTENTION"], out reason);
        return module is null ? null : new FullFlashAttention(module);
    }

    static string KernelName(int headDim, bool bias) => bias ? $"full_attention_bias_hd{headDim}" : $"full_attention_hd{headDim}";

    public static bool Supports(int headDim, int batch, int heads) => HeadDims.Contains(headDim) && (long)batch * heads <= 65535;

    /// <param name="bias">F32 [heads, queries, keys], or IntPtr.Zero for none.</param>
    /// <param name="scale">multiplies q·k; 0 means 1/√headDim.</param>
    public void Launch(IntPtr q, IntPtr k, IntPtr v, IntPtr bias, IntPtr output, int batch, int queries, int keys, int heads,
                       int headDim, float scale, IntPtr stream)
    {
        float scaleLog2 = (float)(scale == 0 ? 1.4426950408889634 / Math.Sqrt(headDim) : 1.4426950408889634 * scale);
        bool hasBias = bias != IntPtr.Zero;
        void** parameters = stackalloc void*[9];
        int next = 0;
        parameters[next++] = &q; parameters[next++] = &k; parameters[next++] = &v;
        if (hasBias) parameters[next++] = &bias;
        parameters[next++] = &output; parameters[next++] = &queries; parameters[next++] = &keys; parameters[next++] = &heads;
        parameters[next] = &scaleLog2;
        uint tiles = (uint)((queries + QueryTile - 1) / QueryTile);
        _module.Launch(KernelName(headDim, hasBias), tiles, (uint)(batch * heads), Threads, stream, parameters);
    }

    public void Dispose() => _module.Dispose();
}
