using System.Runtime.CompilerServices;
using ILGPU;
using Qzo.Compute.Cuda.Kernels;

namespace Qzo.Quantization.Aqlm.Kernels;

/// <summary>
/// AQLM dequantization into bf16 [out, in]: weight[o, i] = scale[r] · Σ_c codebooks[c, code(r, i / I, c), o % O, i % I],
/// r = o / O. The scales arrive already perturbed (fp32 [out/O]). Codes are the stored signed bytes (1 or 2 per code,
/// little-endian), read modulo 2^bits; codebooks are fp16 bits. Output-major, so adjacent threads write adjacent columns.
/// </summary>
static class AqlmDequantKernel
{
    public readonly record struct Shape(int InFeatures, int InGroups, int Codebooks, int CodebookSize, int InGroupSize,
                                        int OutGroupSize, int BytesPerCode, int CodeMask);

    /// <summary>
    /// One thread per pair of adjacent columns (in-group size even, so a pair never straddles groups): one 32-bit codebook read per
    /// codebook, one 32-bit write.
    /// </summary>
    public static void Pairs(Index1D index, ArrayView<byte> codes, ArrayView<uint> codebookPairs, ArrayView<float> scales,
        ArrayView<uint> weightPairs, Shape s)
    {
        int pairsPerRow = s.InFeatures / 2;
        int row = index / pairsPerRow, i = 2 * (index - row * pairsPerRow);
        int r = row / s.OutGroupSize, a = row - r * s.OutGroupSize, k = i / s.InGroupSize, j = i - k * s.InGroupSize;
        long codeAt = ((long)r * s.InGroups + k) * s.Codebooks;
        float low = 0f, high = 0f;
        for (int c = 0; c < s.Codebooks; c++)
        {
            long entry = ((long)c * s.CodebookSize + Code(codes, codeAt + c, s)) * s.OutGroupSize + a;
            uint pair = codebookPairs[(entry * s.InGroupSize + j) >> 1];
            low += Fp16.ToFloat((ushort)(pair & 0xFFFF));
            high += Fp16.ToFloat((ushort)(pair >> 16));
        }
        float scale = scales[r];
        weightPairs[index] = Bf16.Pack(scale * low, scale * high);
    }

    /// <summary>One thread per weight: any in-group size.</summary>
    public static void Run(Index1D index, ArrayView<byte> codes, ArrayView<ushort> codebooks, ArrayView<float> scales,
        ArrayView<ushort> weight, Shape s)
    {
        int row = index / s.InFeatures, i = index - row * s.InFeatures;
        int r = row / s.OutGroupSize, a = row - r * s.OutGroupSize, k = i / s.InGroupSize, j = i - k * s.InGroupSize;
        long codeAt = ((long)r * s.InGroups + k) * s.Codebooks;
        float sum = 0f;
        for (int c = 0; c < s.Codebooks; c++)
        {
            long entry = ((long)c * s.CodebookSize + Code(codes, codeAt + c, s)) * s.OutGroupSize + a;
            sum += Fp16.ToFloat(codebooks[entry * s.InGroupSize + j]);
        }
        weight[index] = Bf16.FromFloat(scales[r] * sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Code(ArrayView<byte> codes, long at, Shape s)
    {
        long b = at * s.BytesPerCode;
        int value = s.BytesPerCode == 1 ? codes[b] : codes[b] | (codes[b + 1] << 8);
        return value & s.CodeMask;
    }
}
