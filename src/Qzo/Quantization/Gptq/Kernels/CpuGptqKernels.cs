using Qzo.Compute;
using Qzo.Compute.Cpu;
using static Qzo.Compute.Cpu.CpuBackend;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>GPTQ on the CPU backend: plain loops over the backend's buffers, parallel over rows.</summary>
sealed partial class CpuGptqKernels(CpuBackend cpu) : IGptqKernels
{
    /// <summary>The CPU's fp8 product is the generic one (IBackend.TryMatMulFp8 over the dequantized weight).</summary>
    public bool TryLinearFp8(DeviceTensor x, int rows, DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                             GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor? bias, DeviceTensor y,
                             bool accumulate, ref DeviceTensor? codeSpan) => false;

    public void Linear(DeviceTensor x, int rows, DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                       GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor weightScratch, DeviceTensor y,
                       bool accumulate)
    {
        Dequantize(qweight, qzeros, scales, gIdx, shape, p, scaleTensorIndex, weightScratch);
        cpu.MatMul(x, weightScratch, y, rows, shape.OutFeatures, shape.InFeatures, accumulate);
    }

    public void Dequantize(DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                           GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor weight)
    {
        var qw = Cpu(qweight); var qz = Cpu(qzeros); var gi = Cpu(gIdx); var wt = Cpu(weight);
        int inF = shape.InFeatures, outF = shape.OutFeatures, bits = shape.Bits;
        var effectiveScales = new float[shape.Groups * outF];
        PerturbedCopyInto(Cpu(scales).Span<float>(), p, scaleTensorIndex, effectiveScales);

        int zeroWordsPerRow = outF * bits / 32;
        var zeros = new int[shape.Groups * outF];
        var qzs = qz.Span<int>();
        for (int g = 0; g < shape.Groups; g++)
            for (int o = 0; o < outF; o++)
            {
                int raw = PackedBits.Extract(qzs.Slice(g * zeroWordsPerRow, zeroWordsPerRow), o, bits);
                zeros[g * outF + o] = shape.ZerosOffsetByOne ? (raw + 1) & ((1 << bits) - 1) : raw;
            }

        // Row i of the output reads row i·bits/32 (and the next, for 3 bits) of qweight: contiguous over o.
        ParallelRows(inF, (long)inF * outF, i =>
        {
            var qws = qw.Span<int>(); var row = wt.Span<float>().Slice(i * outF, outF);
            int group = gi.Span<int>()[i];
            int bit = i * bits, word = bit >> 5, shift = bit & 31;
            bool straddles = shift + bits > 32;
            uint mask = (1u << bits) - 1;
            var low = qws.Slice(word * outF, outF);
            var high = straddles ? qws.Slice((word + 1) * outF, outF) : low;
            var scale = effectiveScales.AsSpan(group * outF, outF);
            var zero = zeros.AsSpan(group * outF, outF);
            for (int o = 0; o < outF; o++)
            {
                ulong window = (uint)low[o] | (straddles ? (ulong)(uint)high[o] << 32 : 0);
                int code = (int)((window >> shift) & mask);
                row[o] = scale[o] * (code - zero[o]);
            }
        });
    }
}
