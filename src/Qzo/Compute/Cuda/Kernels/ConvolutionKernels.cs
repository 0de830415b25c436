using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// Conv2d as im2col + GEMM on bf16 images: <see cref="Im2Col"/> lays a band of output rows' patches out as the columns
/// of a [cIn·k·k, pixels] matrix, the product with weight [cOut, cIn·k·k] goes into an fp32 band (cuBLAS on a GPU,
/// <see cref="BandGemm"/> elsewhere), and <see cref="StoreBand"/> adds the bias and rounds into y.
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

    /// <summary>
    /// The GEMM's placement: columns [Patch, Pixels] from ColumnsOffset with rows ColumnsStride apart (Pixels for im2col's
    /// matrix, the image plane for a 1×1 convolution that multiplies x itself).
    /// </summary>
    public readonly record struct Gemm(int Patch, int Pixels, long ColumnsOffset, int ColumnsStride);

    /// <summary>
    /// The portable product (ILGPU's CPU accelerator, no cuBLAS): product[o, q] = Σ_p weight[o, p]·columns[p, q] in fp32;
    /// index = o·Pixels + q.
    /// </summary>
    public static void BandGemm(Index1D index, ArrayView<ushort> weight, ArrayView<ushort> columns, ArrayView<float> product, Gemm s)
    {
        int o = index / s.Pixels, q = index - o * s.Pixels;
        float sum = 0f;
        for (int p = 0; p < s.Patch; p++)
            sum += Bf16.ToFloat(weight[(long)o * s.Patch + p]) * Bf16.ToFloat(columns[s.ColumnsOffset + (long)p * s.ColumnsStride + q]);
        product[index] = sum;
    }

    /// <summary>Where a band's fp32 product [cOut, Pixels] goes in y: from OutputOffset, channel rows OutputStride apart.</summary>
    public readonly record struct Store(int Pixels, long OutputOffset, int OutputStride, int HasBias);

    /// <summary>
    /// y[o, q] = bf16(product[o, q] + bias[o]): the fp32 sum and the bias rounded once (adding the bias inside cuBLAS, on a
    /// bf16 C, rounded twice: 1–2 bf16 steps off on the H100). index = o·Pixels + q.
    /// </summary>
    public static void StoreBand(Index1D index, ArrayView<float> product, ArrayView<ushort> bias, ArrayView<ushort> y, Store s)
    {
        int o = index / s.Pixels, q = index - o * s.Pixels;
        float value = product[index] + (s.HasBias != 0 ? Bf16.ToFloat(bias[o]) : 0f);
        y[s.OutputOffset + (long)o * s.OutputStride + q] = Bf16.FromFloat(value);
    }
}
