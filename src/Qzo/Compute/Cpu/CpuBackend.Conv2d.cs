using System.Numerics.Tensors;
using Qzo.Numerics;

namespace Qzo.Compute.Cpu;

/// <summary>
/// Conv2d as im2col + SGEMM: per image and band of output rows, the patches become the columns of a
/// [cIn·k·k, pixels] matrix and weight [cOut, cIn·k·k] multiplies it. Bands keep the patch matrix near 32 MiB.
/// </summary>
internal sealed partial class CpuBackend
{
    const long PatchBudget = 8L << 20; // floats

    public void Conv2d(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor y, int batch, int cIn, int height, int width,
                       int cOut, int kernel, int stride, Padding2d padding)
    {
        var shape = Conv2dShape.Of(batch, cIn, height, width, cOut, kernel, stride, padding);
        var xt = Sized(x, DType.F32, shape.InputLength, nameof(x));
        var wt = Sized(weight, DType.F32, shape.WeightLength, nameof(weight));
        var bt = bias is null ? null : Sized(bias, DType.F32, cOut, nameof(bias));
        var yt = Sized(y, DType.F32, shape.OutputLength, nameof(y));
        int patch = shape.PatchLength, outPixels = shape.OutHeight * shape.OutWidth;
        int bandRows = (int)Math.Clamp(PatchBudget / ((long)patch * shape.OutWidth), 1, shape.OutHeight);
        var columns = new float[(long)patch * bandRows * shape.OutWidth];
        var product = new float[(long)cOut * bandRows * shape.OutWidth];
        for (int b = 0; b < batch; b++)
            for (int row0 = 0; row0 < shape.OutHeight; row0 += bandRows)
            {
                int rows = Math.Min(bandRows, shape.OutHeight - row0), pixels = rows * shape.OutWidth;
                var image = xt.Span<float>().Slice((int)((long)b * cIn * height * width), cIn * height * width);
                Im2Col(image, shape, row0, rows, columns.AsSpan(0, patch * pixels));
                Sgemm.MatMul(wt.Span<float>(), columns, product, cOut, pixels, patch);
                var output = yt.Span<float>().Slice((int)((long)b * cOut * outPixels), cOut * outPixels);
                for (int o = 0; o < cOut; o++)
                {
                    var target = output.Slice(o * outPixels + row0 * shape.OutWidth, pixels);
                    product.AsSpan(o * pixels, pixels).CopyTo(target);
                    if (bt is not null) TensorPrimitives.Add(target, bt.Span<float>()[o], target);
                }
            }
    }

    /// <summary>
    /// columns[(c·k + u)·k + v, p] = xpad[c, i·stride + u, j·stride + v] for the band's pixels p = (i − row0)·outWidth + j.
    /// </summary>
    static void Im2Col(ReadOnlySpan<float> image, Conv2dShape s, int row0, int rows, Span<float> columns)
    {
        int pixels = rows * s.OutWidth;
        for (int c = 0; c < s.CIn; c++)
            for (int u = 0; u < s.Kernel; u++)
                for (int v = 0; v < s.Kernel; v++)
                {
                    var line = columns.Slice(((c * s.Kernel + u) * s.Kernel + v) * pixels, pixels);
                    for (int i = 0; i < rows; i++)
                    {
                        int sourceRow = (row0 + i) * s.Stride + u - s.Padding.Top;
                        for (int j = 0; j < s.OutWidth; j++)
                        {
                            int sourceColumn = j * s.Stride + v - s.Padding.Left;
                            line[i * s.OutWidth + j] = (uint)sourceRow < (uint)s.Height && (uint)sourceColumn < (uint)s.Width
                                ? image[(c * s.Height + sourceRow) * s.Width + sourceColumn] : 0f;
                        }
                    }
                }
    }
}
