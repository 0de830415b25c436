using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// torch's GroupNorm on bf16 [batch, channels, spatial] in two launches: <see cref="Statistics"/>, one group per
/// (batch, group), takes the mean and then the biased variance (two passes, fp32); <see cref="Apply"/>, one thread per
/// element, writes (x − mean)·rstd·weight + bias rounded once.
/// </summary>
static class GroupNormKernels
{
    /// <summary>stats[2·g] = mean, stats[2·g + 1] = 1/√(variance + eps) of the <paramref name="length"/> values of group g.</summary>
    public static void Statistics(ArrayView<ushort> x, ArrayView<float> stats, long length, float eps)
    {
        var scratch = SharedMemory.Allocate<float>(33);
        long start = Grid.IdxX * length;
        float sum = 0f;
        for (long e = Group.IdxX; e < length; e += Group.DimX) sum += Bf16.ToFloat(x[start + e]);
        float mean = GroupReduce.Sum(sum, scratch) / length;
        float squares = 0f;
        for (long e = Group.IdxX; e < length; e += Group.DimX)
        {
            float d = Bf16.ToFloat(x[start + e]) - mean;
            squares += d * d;
        }
        float inverse = 1.0f / MathF.Sqrt(GroupReduce.Sum(squares, scratch) / length + eps);
        if (Group.IdxX == 0)
        {
            stats[2 * Grid.IdxX] = mean;
            stats[2 * Grid.IdxX + 1] = inverse;
        }
    }

    public static void Apply(Index1D index, ArrayView<ushort> x, ArrayView<float> stats, ArrayView<ushort> weight, ArrayView<ushort> bias,
                             ArrayView<ushort> y, int channels, int spatial, int perGroup)
    {
        int plane = index / spatial, c = plane % channels, g = plane / channels * (channels / perGroup) + c / perGroup;
        float v = (Bf16.ToFloat(x[index]) - stats[2 * g]) * stats[2 * g + 1];
        y[index] = Bf16.FromFloat(v * Bf16.ToFloat(weight[c]) + Bf16.ToFloat(bias[c]));
    }
}
