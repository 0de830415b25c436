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
}
