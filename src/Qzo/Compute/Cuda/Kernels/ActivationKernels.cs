using ILGPU;
using ILGPU.Runtime;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// The kernels of <see cref="IBackend"/>'s Activations part: bf16 in and out, fp32 inside, rounded once (soft-capping:
/// fp32 logits). tanh is written with exp, the one transcendental kernels have (see <see cref="KernelMath"/>).
/// </summary>
static class ActivationKernels
{
    /// <summary>One group per row: y = x · rsqrt(mean(x²) + eps) · (1 + weight), all in fp32, rounded once.</summary>
    public static void RmsNormOnePlusWeight(ArrayView<ushort> x, ArrayView<ushort> weight, ArrayView<ushort> y, int dim, float eps)
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
            y[start + j] = Bf16.FromFloat(Bf16.ToFloat(x[start + j]) * inverse * (1f + Bf16.ToFloat(weight[j])));
    }

    public static void GeluTanhMul(Index1D i, ArrayView<ushort> gate, ArrayView<ushort> up) =>
        gate[i] = Bf16.FromFloat(GeluTanh(Bf16.ToFloat(gate[i])) * Bf16.ToFloat(up[i]));

    public static void Softcap(Index1D i, ArrayView<float> x, float cap) => x[i] = cap * Tanh(x[i] / cap);

    public static void Scale(Index1D i, ArrayView<ushort> x, float factor) => x[i] = Bf16.FromFloat(Bf16.ToFloat(x[i]) * factor);

    static float GeluTanh(float g) => 0.5f * g * (1f + Tanh(0.7978845608028654f * (g + 0.044715f * g * g * g)));

    /// <summary>tanh(u) = 1 − 2 / (e^{2u} + 1): ±1 in the limits, never NaN.</summary>
    static float Tanh(float u) => 1f - 2f / (KernelMath.Exp(2f * u) + 1f);
}
