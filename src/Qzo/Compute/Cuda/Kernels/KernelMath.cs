using System.Runtime.CompilerServices;
using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// exp and ln for kernels. ILGPU 1.5 has no PTX lowering for MathF.Exp/Log (they need ILGPU.Algorithms);
/// base-2 forms map to ex2.approx/lg2.approx (relative error about 2⁻²²), plenty for softmax, SiLU and losses.
/// </summary>
static class KernelMath
{
    const float Log2E = 1.44269504088896341f, Ln2 = 0.693147180559945309f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => IntrinsicMath.CPUOnly.Exp2(x * Log2E);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log(float x) => IntrinsicMath.CPUOnly.Log2(x) * Ln2;
}
