using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// One group per row. As torch's LayerNorm on bf16: mean and biased variance (two passes) in fp32,
/// (x − mean)·rstd·weight + bias in fp32, rounded to bf16 once. hasWeight/hasBias 0 = 1 and 0
/// (the views are then never read).
/// </summary>
static class LayerNormKernel
{
    public static void Run(ArrayView<ushort> x, ArrayView<ushort> weight, ArrayView<ushort> bias, ArrayView<ushort> y,
                           int dim, float eps, int hasWeight, int hasBias)
    {
        var scratch = SharedMemory.Allocate<float>(33);
        long start = (long)Grid.IdxX * dim;
        float sum = 0f;
        for (int j = Group.IdxX; j < dim; j += Group.DimX) sum += Bf16.ToFloat(x[start + j]);
        float mean = GroupReduce.Sum(sum, scratch) / dim;
        float squares = 0f;
        for (int j = Group.IdxX; j < dim; j += Group.DimX)
        {
            float d = Bf16.ToFloat(x[start + j]) - mean;
            squares += d * d;
        }
        float inverse = 1.0f / MathF.Sqrt(GroupReduce.Sum(squares, scratch) / dim + eps);
        for (int j = Group.IdxX; j < dim; j += Group.DimX)
        {
            float v = (Bf16.ToFloat(x[start + j]) - mean) * inverse;
            if (hasWeight != 0) v *= Bf16.ToFloat(weight[j]);
            if (hasBias != 0) v += Bf16.ToFloat(bias[j]);
            y[start + j] = Bf16.FromFloat(v);
        }
    }
}
