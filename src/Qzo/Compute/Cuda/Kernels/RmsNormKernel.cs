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

    /// <summary><see cref="Run"/> on bf16 pairs (32-bit accesses) for even dims; pairs is dim / 2.</summary>
    public static void Pairs(ArrayView<uint> x, ArrayView<uint> weight, ArrayView<uint> y, int pairs, float eps)
    {
        var scratch = SharedMemory.Allocate<float>(33);
        long start = (long)Grid.IdxX * pairs;
        float sum = 0f;
        for (int j = Group.IdxX; j < pairs; j += Group.DimX)
        {
            uint v = x[start + j];
            float low = Bf16.Low(v), high = Bf16.High(v);
            sum += low * low + high * high;
        }
        sum = GroupReduce.Sum(sum, scratch);
        float inverse = 1.0f / MathF.Sqrt(sum / (2 * pairs) + eps);
        for (int j = Group.IdxX; j < pairs; j += Group.DimX)
        {
            uint v = x[start + j], w = weight[j];
            y[start + j] = Bf16.Pack(Round(Bf16.Low(v) * inverse) * Bf16.Low(w), Round(Bf16.High(v) * inverse) * Bf16.High(w));
        }
    }

    static float Round(float v) => Bf16.ToFloat(Bf16.FromFloat(v));
}
