using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>
/// Conv2d as im2col + GEMM (docs/kernels.md): the GPU machine has cuBLAS but no cuDNN. Per image and band of output rows,
/// <see cref="ConvolutionKernels.Im2Col"/> writes the patches as a [cIn·k·k, pixels] bf16 matrix into a workspace of at
/// most 256 MiB, and one GemmEx multiplies weight [cOut, cIn·k·k] by it straight into the band of y (leading dimension
/// outHeight·outWidth), accumulating onto the bias y was filled with: fp32 sums rounded once. A 1×1, stride-1, unpadded
/// convolution multiplies x itself. Without cuBLAS (ILGPU's CPU accelerator) <see cref="ConvolutionKernels.BandGemm"/>
/// does the product, and the workspace is small so the tests cross bands.
/// </summary>
public sealed partial class CudaBackend
{
    IlgpuTensor? _convColumns;

    long ConvWorkspace => IsCuda ? 128L << 20 : 4096; // bf16 values

    public void Conv2d(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor y, int batch, int cIn, int height, int width,
                       int cOut, int kernel, int stride, Padding2d padding) => Timed("conv2d", () =>
    {
        var s = Conv2dShape.Of(batch, cIn, height, width, cOut, kernel, stride, padding);
        var xv = Bf16Sized(x, s.InputLength, nameof(x)); var wv = Bf16Sized(weight, s.WeightLength, nameof(weight));
        var yv = Bf16Sized(y, s.OutputLength, nameof(y));
        var bv = bias is null ? default : Bf16Sized(bias, cOut, nameof(bias));
        if (s.OutputLength == 0) return;
        int patch = s.PatchLength, outPixels = s.OutHeight * s.OutWidth;
        if (bias is not null) Diffusion.FillBias(Count(s.OutputLength), bv, yv, cOut, outPixels);
        bool direct = kernel == 1 && stride == 1 && padding == default;
        int bandRows = direct ? s.OutHeight : (int)Math.Clamp(ConvWorkspace / ((long)patch * s.OutWidth), 1, s.OutHeight);
        var columns = direct ? null : Grown(ref _convColumns, DType.BF16, (long)patch * bandRows * s.OutWidth);
        for (int b = 0; b < batch; b++)
            for (int row0 = 0; row0 < s.OutHeight; row0 += bandRows)
            {
                int pixels = Math.Min(bandRows, s.OutHeight - row0) * s.OutWidth;
                long imageOffset = (long)b * cIn * height * width, outputOffset = (long)b * cOut * outPixels + (long)row0 * s.OutWidth;
                if (columns is not null)
                    Diffusion.Im2Col(Count((long)patch * pixels), xv, columns.View<ushort>(), new ConvolutionKernels.Band(cIn, height,
                        width, kernel, stride, padding.Top, padding.Left, s.OutWidth, row0, pixels, imageOffset));
                var source = columns ?? Ilgpu(x);
                long sourceOffset = columns is null ? imageOffset : 0;
                if (_cublas is not null)
                    _cublas.MultiplyIntoRows(Ilgpu(weight).Pointer, source.Pointer + (nint)(2 * sourceOffset), Ilgpu(y).Pointer +
                        (nint)(2 * outputOffset), cOut, pixels, patch, outPixels, accumulate: bias is not null);
                else
                    Diffusion.BandGemm(Count((long)cOut * pixels), wv, source.View<ushort>(), yv,
                        new ConvolutionKernels.Gemm(patch, pixels, sourceOffset, outputOffset, outPixels, bias is null ? 0 : 1));
            }
    });
}
