using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>
/// Conv2d as im2col + GEMM (docs/kernels.md): the GPU machine has cuBLAS but no cuDNN. Per image and band of output rows,
/// <see cref="ConvolutionKernels.Im2Col"/> writes the patches as a [cIn·k·k, pixels] bf16 matrix into a workspace of at
/// most 256 MiB, one GemmEx multiplies weight [cOut, cIn·k·k] by it into an fp32 band (at most 256 MiB), and
/// <see cref="ConvolutionKernels.StoreBand"/> adds the bias and rounds once into y. A 1×1, stride-1, unpadded convolution
/// multiplies x itself. Without cuBLAS (ILGPU's CPU accelerator) <see cref="ConvolutionKernels.BandGemm"/> does the
/// product, and the workspaces are small so the tests cross bands.
/// </summary>
internal sealed partial class CudaBackend
{
    IlgpuTensor? _convColumns, _convProduct;

    long ConvWorkspace => IsCuda ? 128L << 20 : 4096; // values of each workspace: bf16 columns, fp32 product

    public void Conv2d(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor y, int batch, int cIn, int height, int width,
                       int cOut, int kernel, int stride, Padding2d padding) => Timed("conv2d", () =>
    {
        var s = Conv2dShape.Of(batch, cIn, height, width, cOut, kernel, stride, padding);
        var xv = Bf16Sized(x, s.InputLength, nameof(x)); var wv = Bf16Sized(weight, s.WeightLength, nameof(weight));
        var yv = Bf16Sized(y, s.OutputLength, nameof(y));
        var bv = bias is null ? wv : Bf16Sized(bias, cOut, nameof(bias)); // the weight stands in for an absent bias, never read
        if (s.OutputLength == 0) return;
        int patch = s.PatchLength, outPixels = s.OutHeight * s.OutWidth;
        bool direct = kernel == 1 && stride == 1 && padding == default;
        long rowsByColumns = direct ? s.OutHeight : ConvWorkspace / ((long)patch * s.OutWidth);
        int bandRows = (int)Math.Clamp(Math.Min(rowsByColumns, ConvWorkspace / ((long)cOut * s.OutWidth)), 1, s.OutHeight);
        var columns = direct ? null : Grown(ref _convColumns, DType.BF16, (long)patch * bandRows * s.OutWidth);
        var product = Grown(ref _convProduct, DType.F32, (long)cOut * bandRows * s.OutWidth);
        for (int b = 0; b < batch; b++)
            for (int row0 = 0; row0 < s.OutHeight; row0 += bandRows)
            {
                int pixels = Math.Min(bandRows, s.OutHeight - row0) * s.OutWidth;
                long imageOffset = (long)b * cIn * height * width, outputOffset = (long)b * cOut * outPixels + (long)row0 * s.OutWidth;
                if (columns is not null)
                    Diffusion.Im2Col(Count((long)patch * pixels), xv, columns.View<ushort>(), new ConvolutionKernels.Band(cIn, height,
                        width, kernel, stride, padding.Top, padding.Left, s.OutWidth, row0, pixels, imageOffset));
                var source = columns ?? Ilgpu(x);
                long sourceOffset = columns is null ? imageOffset + (long)row0 * s.OutWidth : 0;
                int sourceStride = columns is null ? outPixels : pixels;
                if (_cublas is not null)
                    _cublas.MultiplyBand(Ilgpu(weight).Pointer, source.Pointer + (nint)(2 * sourceOffset), sourceStride,
                                         product.Pointer, cOut, pixels, patch);
                else
                    Diffusion.BandGemm(Count((long)cOut * pixels), wv, source.View<ushort>(), product.View<float>(),
                                       new ConvolutionKernels.Gemm(patch, pixels, sourceOffset, sourceStride));
                Diffusion.StoreBand(Count((long)cOut * pixels), product.View<float>(), bv, yv,
                                    new ConvolutionKernels.Store(pixels, outputOffset, outPixels, bias is null ? 0 : 1));
            }
    });
}
