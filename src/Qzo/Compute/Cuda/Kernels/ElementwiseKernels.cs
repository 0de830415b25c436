using ILGPU;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>One thread per element. Activations are bf16; arithmetic is fp32, rounded once on store.</summary>
static class ElementwiseKernels
{
    public static void GatherRows(Index1D index, ArrayView<ushort> table, ArrayView<int> ids, ArrayView<ushort> output, int dim)
    {
        int row = index / dim, column = index - row * dim;
        output[index] = table[(long)ids[row] * dim + column];
    }

    public static void SiluMul(Index1D i, ArrayView<ushort> gate, ArrayView<ushort> up)
    {
        float g = Bf16.ToFloat(gate[i]);
        gate[i] = Bf16.FromFloat(g / (1.0f + MathF.Exp(-g)) * Bf16.ToFloat(up[i]));
    }

    public static void Add(Index1D i, ArrayView<ushort> x, ArrayView<ushort> y) =>
        x[i] = Bf16.FromFloat(Bf16.ToFloat(x[i]) + Bf16.ToFloat(y[i]));

    public static void AddBias(Index1D i, ArrayView<ushort> x, ArrayView<ushort> bias, int dim) =>
        x[i] = Bf16.FromFloat(Bf16.ToFloat(x[i]) + Bf16.ToFloat(bias[i % dim]));

    public static void PerturbedCopyToF32(Index1D i, ArrayView<float> master, ArrayView<float> output, ulong seed, float scale, int tensor) =>
        output[i] = scale == 0f ? master[i] : master[i] + scale * GaussianDirection.Z(seed, tensor, i);

    public static void PerturbedCopyToBf16(Index1D i, ArrayView<float> master, ArrayView<ushort> output, ulong seed, float scale, int tensor) =>
        output[i] = Bf16.FromFloat(scale == 0f ? master[i] : master[i] + scale * GaussianDirection.Z(seed, tensor, i));

    public static void ZerothOrderUpdate(Index1D i, ArrayView<float> master, ulong seed, int tensor, float step, float floor) =>
        master[i] = MathF.Max(master[i] - step * GaussianDirection.Z(seed, tensor, i), floor);
}
