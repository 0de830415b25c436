using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;
using static Qzo.Compute.Cpu.CpuBackend;

namespace Qzo.Quantization.Bnb.Kernels;

/// <summary>bitsandbytes 4-bit on the CPU backend: the block scales perturbed once, then one value per nibble.</summary>
sealed class CpuBnb4BitKernels : IBnb4BitKernels
{
    /// <summary>The CPU's fp8 product is the generic one (IBackend.TryMatMulFp8 over the dequantized weight).</summary>
    public bool TryLinearFp8(DeviceTensor x, int rows, DeviceTensor packed, DeviceTensor code, DeviceTensor absmax,
                             Bnb4BitKernelShape shape, Perturbation p, int absmaxTensorIndex, DeviceTensor? bias, DeviceTensor y,
                             bool accumulate) => false;

    public void Dequantize(DeviceTensor packed, DeviceTensor code, DeviceTensor absmax, Bnb4BitKernelShape shape,
                           Perturbation p, int absmaxTensorIndex, DeviceTensor weight)
    {
        var bytes = Cpu(packed); var wt = RequireType(weight, DType.F32);
        var table = F(code).Slice(0, 16).ToArray();
        var scales = new float[shape.Blocks];
        PerturbedCopyInto(F(absmax), p, absmaxTensorIndex, scales);
        int blockSize = shape.BlockSize;
        ParallelChunks(shape.Count, (start, length) =>
        {
            var q = bytes.Span<byte>(); var w = wt.Span<float>();
            for (long k = start; k < start + length; k++)
            {
                int b = q[(int)(k >> 1)];
                w[(int)k] = table[(k & 1) == 0 ? b >> 4 : b & 0xF] * scales[k / blockSize];
            }
        });
    }
}
