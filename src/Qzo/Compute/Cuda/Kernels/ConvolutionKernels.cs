using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// Conv2d as im2col + GEMM on bf16 images: <see cref="Im2Col"/> lays a band of output rows' patches out as the columns
/// of a [cIn·k·k, pixels] matrix, the product with weight [cOut, cIn·k·k] goes straight into the band of y (cuBLAS on a
/// GPU, <see cref="BandGemm"/> elsewhere), on top of y prefilled with the bias by <see cref="FillBias"/>.
/// </summary>
static class ConvolutionKernels
{
    /// <summary>One band of one image: output rows Row0.. covering <c>Pixels</c> output pixels; x's image at ImageOffset.</summary>
    public readonly record struct Band(int CIn, int Height, int Width, int Kernel, int Stride, int PadTop, int PadLeft, int OutWidth,
                                       int Row0, int Pixels, long ImageOffset);

    /// <summary>columns[p·Pixels + q] for patch row p = (c·k + u)·k + v and band pixel q; zeros outside the image.</summary>
    public static void Im2Col(Index1D index, ArrayView<ushort> x, ArrayView<ushort> columns, Band s)
    {
        int p = index / s.Pixels, q = index - p * s.Pixels;
        int c = p / (s.Kernel * s.Kernel), uv = p - c * s.Kernel * s.Kernel, u = uv / s.Kernel, v = uv - u * s.Kernel;
        int i = s.Row0 + q / s.OutWidth, j = q - q / s.OutWidth * s.OutWidth;
        int row = i * s.Stride + u - s.PadTop, column = j * s.Stride + v - s.PadLeft;
        bool inside = (uint)row < (uint)s.Height && (uint)column < (uint)s.Width;
        columns[index] = inside ? x[s.ImageOffset + ((long)c * s.Height + row) * s.Width + column] : (ushort)0;
    }

    /// <summary>y[index] = bias[channel] for y [batch, cOut, pixels].</summary>
    public static void FillBias(Index1D index, ArrayView<ushort> bias, ArrayView<ushort> y, int cOut, int pixels) =>
        y[index] = bias[index / pixels % cOut];

    /// <summary>
    /// The GEMM's placement: columns [Patch, Pixels] from ColumnsOffset; y's band from OutputOffset, rows OutputStride apart.
    /// </summary>
    public readonly record struct Gemm(int Patch, int Pixels, long ColumnsOffset, long OutputOffset, int OutputStride, int Accumulate);

    /// <summary>
    /// The portable product (ILGPU's CPU accelerator, no cuBLAS): y[o, q] (+)= Σ_p weight[o, p]·columns[p, q] in fp32, rounded
    /// once; index = o·Pixels + q.
    /// </summary>
    public static void BandGemm(Index1D index, ArrayView<ushort> weight, ArrayView<ushort> columns, ArrayView<ushort> y, Gemm s)
    {
        int o = index / s.Pixels, q = index - o * s.Pixels;
        long target = s.OutputOffset + (long)o * s.OutputStride + q;
        float sum = s.Accumulate != 0 ? Bf16.ToFloat(y[target]) : 0f;
        for (int p = 0; p < s.Patch; p++)
            sum += Bf16.ToFloat(weight[(long)o * s.Patch + p]) * Bf16.ToFloat(columns[s.ColumnsOffset + (long)p * s.Pixels + q]);
        y[target] = Bf16.FromFloat(sum);
    }
}
