using ILGPU;
using Qzo.Compute.Cuda.Kernels;

namespace Qzo.Quantization.Bnb.Kernels;

/// <summary>
/// bitsandbytes 4-bit dequantization into bf16 [out, in]: value k = code[nibble k] · absmax[k / blockSize], the
/// nibbles of a byte high first. The absmax arrive already perturbed (fp32, one per block), so z is drawn once per block.
/// </summary>
static class Bnb4BitDequantKernel
{
    /// <summary>
    /// One thread per packed byte; its two values (one block: block sizes are even) are written as one bf16 pair. For even counts.
    /// </summary>
    public static void Pairs(Index1D index, ArrayView<byte> packed, ArrayView<float> code, ArrayView<float> absmax,
        ArrayView<uint> weightPairs, int blockSize)
    {
        int b = packed[index];
        float scale = absmax[2L * index / blockSize];
        weightPairs[index] = Bf16.Pack(code[b >> 4] * scale, code[b & 0xF] * scale);
    }

    /// <summary>One thread per value: any count.</summary>
    public static void Run(Index1D index, ArrayView<byte> packed, ArrayView<float> code, ArrayView<float> absmax, ArrayView<ushort> weight,
        int blockSize)
    {
        int b = packed[index >> 1];
        int nibble = (index & 1) == 0 ? b >> 4 : b & 0xF;
        weight[index] = Bf16.FromFloat(code[nibble] * absmax[index / blockSize]);
    }
}
