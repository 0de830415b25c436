namespace Qzo.Quantization.Gptq;

/// <summary>
/// Dimensions of one GPTQ linear as the kernels need them. <paramref name="SequentialGroupSize"/>: g_idx[i] = i / it for
/// every input i (no act-order), which lets the fused kernel keep a stage's scales in registers; 0 when g_idx is any other
/// assignment or not checked.
/// </summary>
public readonly record struct GptqKernelShape(int InFeatures, int OutFeatures, int Groups, int Bits, bool ZerosOffsetByOne,
                                              int SequentialGroupSize = 0)
{
    /// <summary><paramref name="groupSize"/> when g_idx is the plain i / groupSize, else 0 (act-order).</summary>
    public static int SequentialGroupSizeOf(ReadOnlySpan<int> gIdx, int groupSize)
    {
        for (int i = 0; i < gIdx.Length; i++)
            if (gIdx[i] != i / groupSize) return 0;
        return groupSize;
    }
}
