using ILGPU;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// One thread per element. Activations are bf16; arithmetic is fp32, rounded once on store. Kernels that draw z
/// take the FMA strategy of the device they are compiled for (<see cref="PtxFma"/> on CUDA).
/// </summary>
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
        gate[i] = Bf16.FromFloat(g / (1.0f + KernelMath.Exp(-g)) * Bf16.ToFloat(up[i]));
    }

    public static void Relu(Index1D i, ArrayView<ushort> x) => x[i] = Bf16.FromFloat(MathF.Max(Bf16.ToFloat(x[i]), 0f));

    public static void Add(Index1D i, ArrayView<ushort> x, ArrayView<ushort> y) =>
        x[i] = Bf16.FromFloat(Bf16.ToFloat(x[i]) + Bf16.ToFloat(y[i]));

    /// <summary><see cref="SiluMul"/> on pairs of bf16 (32-bit accesses): for even counts.</summary>
    public static void SiluMulPairs(Index1D i, ArrayView<uint> gate, ArrayView<uint> up)
    {
        uint g = gate[i], u = up[i];
        gate[i] = Bf16.Pack(SiluTimes(Bf16.Low(g), Bf16.Low(u)), SiluTimes(Bf16.High(g), Bf16.High(u)));
    }

    /// <summary><see cref="Add"/> on pairs of bf16: for even counts.</summary>
    public static void AddPairs(Index1D i, ArrayView<uint> x, ArrayView<uint> y)
    {
        uint a = x[i], b = y[i];
        x[i] = Bf16.Pack(Bf16.Low(a) + Bf16.Low(b), Bf16.High(a) + Bf16.High(b));
    }

    static float SiluTimes(float g, float u) => g / (1.0f + KernelMath.Exp(-g)) * u;

    public static void AddBias(Index1D i, ArrayView<ushort> x, ArrayView<ushort> bias, int dim) =>
        x[i] = Bf16.FromFloat(Bf16.ToFloat(x[i]) + Bf16.ToFloat(bias[i % dim]));

    public static void PerturbedCopyToF32<TFma>(Index1D i, ArrayView<float> master, ArrayView<float> output, ulong seed, float scale,
        int tensor) where TFma : struct, IFusedMultiplyAdd =>
        output[i] = scale == 0f ? master[i] : GaussianDirection.Step(master[i], scale, GaussianDirection.Z<TFma>(seed, tensor, i));

    public static void PerturbedCopyToBf16<TFma>(Index1D i, ArrayView<float> master, ArrayView<ushort> output, ulong seed, float scale,
        int tensor) where TFma : struct, IFusedMultiplyAdd =>
        output[i] = Bf16.FromFloat(scale == 0f ? master[i] : GaussianDirection.Step(master[i], scale,
            GaussianDirection.Z<TFma>(seed, tensor, i)));

    public static void FillGaussianF32<TFma>(Index1D i, ArrayView<float> t, ulong seed, int stream, float mean, float std) where TFma
        : struct, IFusedMultiplyAdd =>
        t[i] = GaussianDirection.Step(mean, std, GaussianDirection.Z<TFma>(seed, stream, i));

    public static void FillGaussianBf16<TFma>(Index1D i, ArrayView<ushort> t, ulong seed, int stream, float mean, float std) where TFma
        : struct, IFusedMultiplyAdd =>
        t[i] = Bf16.FromFloat(GaussianDirection.Step(mean, std, GaussianDirection.Z<TFma>(seed, stream, i)));

    public static void FillUniform(Index1D i, ArrayView<float> t, ulong seed, int stream, float low, float high) =>
        t[i] = RandomValues.Uniform(seed, stream, i, low, high);

    public static void FillBits(Index1D i, ArrayView<int> t, ulong seed, int stream) =>
        t[i] = (int)RandomValues.Bits(seed, stream, i);

    public static void ZerothOrderUpdate<TFma>(Index1D i, ArrayView<float> master, ulong seed, int tensor, float step,
        float floor) where TFma : struct, IFusedMultiplyAdd =>
        master[i] = MathF.Max(GaussianDirection.Step(master[i], -step, GaussianDirection.Z<TFma>(seed, tensor, i)), floor);
}
