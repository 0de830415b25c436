using Qzo.Compute;

namespace Qzo.Quantization.Bnb.Kernels;

/// <summary>bitsandbytes 4-bit on one backend (<see cref="Bnb4BitKernels.For"/>).</summary>
internal interface IBnb4BitKernels
{
    /// <summary>
    /// bitsandbytes 4-bit (NF4/FP4) dequantization with the perturbation folded into the block scales:
    /// weight[k] = code[q(k)] · (absmax[b] + p.Scale·z(p.Seed, absmaxTensorIndex, b)), b = k / blockSize, for the
    /// flattened [out, in] weight (row-major, the backend's ComputeType, ready for <see cref="IBackend.MatMulTransposedB"/>).
    /// q(k) is nibble k of packed (U8, two per byte, the first in the high nibble); code is the type's F32 [16] table;
    /// absmax the fp32 master.
    /// </summary>
    void Dequantize(DeviceTensor packed, DeviceTensor code, DeviceTensor absmax, Bnb4BitKernelShape shape,
                    Perturbation p, int absmaxTensorIndex, DeviceTensor weight);

    /// <summary>
    /// --compute fp8 (IBackend.Fp8): y[rows, out] (+)= the fp8 product of x and the weight under <paramref name="p"/> (+ bias,
    /// only without accumulate), the weight's e4m3 codes formed straight from the nibbles (the same codes as converting
    /// <see cref="Dequantize"/>'s bf16 output, bit for bit, without writing it). False (nothing done) where this backend has
    /// no such kernel or declines the shape; the caller then dequantizes and multiplies through IBackend.TryMatMulFp8.
    /// </summary>
    bool TryLinearFp8(DeviceTensor x, int rows, DeviceTensor packed, DeviceTensor code, DeviceTensor absmax, Bnb4BitKernelShape shape,
                      Perturbation p, int absmaxTensorIndex, DeviceTensor? bias, DeviceTensor y, bool accumulate);
}
