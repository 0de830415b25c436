using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// GPTQ dequantization into bf16 [in, out] with o fastest, so reads of qweight and writes of the output are
/// coalesced: <see cref="Run"/> (one thread per weight, any width incl. 3 bits) or <see cref="DequantizePerWord"/>. Scales arrive already perturbed (fp32 [groups, out]), computed by a
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
    /// Bits 2, 4, 8 (values never straddle words): one thread per qweight word, which holds 32/bits consecutive
    /// input rows of one output column; each row's value is written to [row, o], so a warp writes contiguous runs.
    /// </summary>
    public static void DequantizePerWord(Index1D index, ArrayView<int> qweight, ArrayView<int> qzeros, ArrayView<float> scales, ArrayView<int> gIdx,
                                  ArrayView<ushort> weight, Shape s)
    {
        int word = index / s.OutFeatures, o = index - word * s.OutFeatures;
        int bits = s.Bits, perWord = 32 / bits;
        uint mask = (1u << bits) - 1u;
        uint packed = (uint)qweight[index];
        int zeroWords = s.OutFeatures * bits / 32;
        int zshift = (o * bits) & 31, zcolumn = (o * bits) >> 5;
        int firstRow = word * perWord;
        int group = gIdx[firstRow];
        float scale = 0f; int zero = 0;
        for (int k = 0; k < perWord; k++)
        {
            int i = firstRow + k;
            int rowGroup = gIdx[i];
            if (k == 0 || rowGroup != group)   // rows of a word usually share a group: look scale and zero up once
            {
                group = rowGroup;
                scale = scales[(long)group * s.OutFeatures + o];
                zero = (int)(((uint)qzeros[(long)group * zeroWords + zcolumn] >> zshift) & mask);
                if (s.ZerosOffsetByOne != 0) zero = (zero + 1) & (int)mask;
            }
            int code = (int)((packed >> (k * bits)) & mask);
            weight[(long)i * s.OutFeatures + o] = Bf16.FromFloat(scale * (code - zero));
        }
    }
}
