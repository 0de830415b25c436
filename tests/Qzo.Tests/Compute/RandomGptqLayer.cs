using Qzo.Compute;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Compute;

/// <summary>
/// A GPTQ layer of random codes, zeros and positive scales (g_idx shuffled for act-order) on both backends of a
/// <see cref="BackendPair"/>: the inputs of the CPU-versus-GPU cases of the GPTQ kernels.
/// </summary>
sealed record RandomGptqLayer(DeviceTensor QweightCpu, DeviceTensor QweightGpu, DeviceTensor QzerosCpu, DeviceTensor QzerosGpu,
                              DeviceTensor GIdxCpu, DeviceTensor GIdxGpu, DeviceTensor ScalesCpu, DeviceTensor ScalesGpu,
                              GptqKernelShape Shape)
{
    public static RandomGptqLayer Create(BackendPair pair, int bits, int inF, int outF, int groupSize, bool actOrder)
    {
        int groups = inF / groupSize;
        var random = new Random(bits + inF);
        var qweight = Enumerable.Range(0, inF * bits / 32 * outF).Select(_ => random.Next(int.MinValue, int.MaxValue)).ToArray();
        var qzeros = Enumerable.Range(0, groups * outF * bits / 32).Select(_ => random.Next(int.MinValue, int.MaxValue)).ToArray();
        var gIdx = GptqPacking.DefaultGIdx(inF, groupSize);
        if (actOrder) random.Shuffle(gIdx);
        var scales = BackendPair.RandomBf16(groups * outF, 13, 0.02f).Select(Math.Abs).ToArray();
        var (qc, qg) = pair.Ints(qweight); var (zc, zg) = pair.Ints(qzeros); var (gc, gg) = pair.Ints(gIdx);
        var (sc, sg) = pair.Activation(scales, f32: true);
        var shape = new GptqKernelShape(inF, outF, groups, bits, ZerosOffsetByOne: true,
                                        GptqKernelShape.SequentialGroupSizeOf(gIdx, groupSize));
        return new RandomGptqLayer(qc, qg, zc, zg, gc, gg, sc, sg, shape);
    }
}
