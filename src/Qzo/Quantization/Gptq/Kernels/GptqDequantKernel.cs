using ILGPU;
using Qzo.Compute.Cuda.Kernels;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// GPTQ dequantization into bf16 [in, out] with o fastest, so reads of qweight and writes of the output are
/// coalesced: <see cref="Run"/> (one thread per weight, any width incl. 3 bits) or <see cref="DequantizePairsPerWord"/>. Scales arrive
/// already perturbed (fp32 [groups, out]), computed by a
/// small kernel first, so z is drawn once per scale rather than once per weight.
/// </summary>
static class GptqDequantKernel
{
    public readonly record struct Shape(int InFeatures, int OutFeatures, int Bits, int ZerosOffsetByOne);

    public static void Run(Index1D index, ArrayView<int> qweight, ArrayView<int> qzeros, ArrayView<float> scales, ArrayView<int> gIdx,
                           ArrayView<ushort> weight, Shape s)
    {
        int i = index / s.OutFeatures, o = index - i * s.OutFeatures;
        int bits = s.Bits;
        uint mask = (1u << bits) - 1u;
        int group = gIdx[i];

        int bit = i * bits, word = bit >> 5, shift = bit & 31;
        ulong window = (uint)qweight[(long)word * s.OutFeatures + o];
        if (shift + bits > 32) window |= (ulong)(uint)qweight[(long)(word + 1) * s.OutFeatures + o] << 32;
        int code = (int)((window >> shift) & mask);

        int zeroWords = s.OutFeatures * bits / 32;
        int zbit = o * bits, zword = zbit >> 5, zshift = zbit & 31;
        long zrow = (long)group * zeroWords;
        ulong zwindow = (uint)qzeros[zrow + zword];
        if (zshift + bits > 32) zwindow |= (ulong)(uint)qzeros[zrow + zword + 1] << 32;
        int zero = (int)((zwindow >> zshift) & mask);
        if (s.ZerosOffsetByOne != 0) zero = (zero + 1) & (int)mask;

        weight[index] = Bf16.FromFloat(scales[(long)group * s.OutFeatures + o] * (code - zero));
    }

    /// <summary>
    /// Bits 2, 4, 8 (values never straddle words, and out_features is a multiple of 32/bits, so even): one thread per
    /// pair of adjacent qweight words, which hold 32/bits consecutive input rows of two output columns; each row's
    /// two values are written as one 32-bit bf16 pair (the kernel is bound by writing the bf16 weight).
    /// Both columns' zeros lie in one qzeros word (an even column starts an even number of values in).
    /// </summary>
    public static void DequantizePairsPerWord(Index1D index, ArrayView<int> qweight, ArrayView<int> qzeros, ArrayView<float> scales,
        ArrayView<int> gIdx,
                                              ArrayView<uint> weightPairs, Shape s)
    {
        int columnPairs = s.OutFeatures / 2;
        int word = index / columnPairs, o = 2 * (index - word * columnPairs);
        int bits = s.Bits, perWord = 32 / bits;
        uint mask = (1u << bits) - 1u;
        long wordStart = (long)word * s.OutFeatures + o;
        uint packed0 = (uint)qweight[wordStart], packed1 = (uint)qweight[wordStart + 1];
        int zeroWords = s.OutFeatures * bits / 32;
        int zshift = (o * bits) & 31, zcolumn = (o * bits) >> 5;
        int firstRow = word * perWord;
        int group = gIdx[firstRow];
        float scale0 = 0f, scale1 = 0f; int zero0 = 0, zero1 = 0;
        for (int k = 0; k < perWord; k++)
        {
            int i = firstRow + k;
            int rowGroup = gIdx[i];
            if (k == 0 || rowGroup != group)   // rows of a word usually share a group: look scales and zeros up once
            {
                group = rowGroup;
                long scaleAt = (long)group * s.OutFeatures + o;
                scale0 = scales[scaleAt]; scale1 = scales[scaleAt + 1];
                uint zeros = (uint)qzeros[(long)group * zeroWords + zcolumn];
                zero0 = (int)((zeros >> zshift) & mask); zero1 = (int)((zeros >> (zshift + bits)) & mask);
                if (s.ZerosOffsetByOne != 0) { zero0 = (zero0 + 1) & (int)mask; zero1 = (zero1 + 1) & (int)mask; }
            }
            int shift = k * bits;
            int code0 = (int)((packed0 >> shift) & mask), code1 = (int)((packed1 >> shift) & mask);
            weightPairs[((long)i * s.OutFeatures + o) >> 1] =
                Bf16.Pack(scale0 * (code0 - zero0), scale1 * (code1 - zero1));
        }
    }
}
