using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// One group per row. As transformers: normalize in fp32, round to the activation dtype, then multiply by
/// the weight (a bf16 × bf16 product, rounded again).
/// </summary>
static class RmsNormKernel
{
    public static void Run(ArrayView<ushort> x, ArrayView<ushort> weight, ArrayView<ushort> y, int dim, float eps)
    {
        var scratch = SharedMemory.Allocate<float>(33);
        long start = (long)Grid.IdxX * dim;
        float sum = 0f;
        for (int j = Group.IdxX; j < dim; j += Group.DimX)
        {
            float v = Bf16.ToFloat(x[start + j]);
            sum += v * v;
        }
        sum = GroupReduce.Sum(sum, scratch);
        float inverse = 1.0f / MathF.Sqrt(sum / dim + eps);
        for (int j = Group.IdxX; j < dim; j += Group.DimX)
        {
            float normalized = Bf16.ToFloat(Bf16.FromFloat(Bf16.ToFloat(x[start + j]) * inverse));
            y[start + j] = Bf16.FromFloat(normalized * Bf16.ToFloat(weight[j]));
        }
    }
}
