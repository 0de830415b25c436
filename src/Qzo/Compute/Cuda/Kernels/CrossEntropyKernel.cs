using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>One group per row of fp32 logits: nll = log Σ exp(x − max) + max − x[target]; 0 where target &lt; 0.</summary>
static class CrossEntropyKernel
{
    public static void Run(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> nll, int vocab)
    {
        var scratch = SharedMemory.Allocate<float>(33);
        int row = Grid.IdxX;
        int target = targets[row];
        if (target < 0) { if (Group.IdxX == 0) nll[row] = 0f; return; }
        long start = (long)row * vocab;
        float max = float.NegativeInfinity;
        for (int j = Group.IdxX; j < vocab; j += Group.DimX) max = MathF.Max(max, logits[start + j]);
        max = GroupReduce.Max(max, scratch);
        float sum = 0f;
        for (int j = Group.IdxX; j < vocab; j += Group.DimX) sum += KernelMath.Exp(logits[start + j] - max);
        sum = GroupReduce.Sum(sum, scratch);
        if (Group.IdxX == 0) nll[row] = KernelMath.Log(sum) + max - logits[start + target];
    }
}
