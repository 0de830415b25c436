using System.Runtime.CompilerServices;
using ILGPU.Runtime.Cuda;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>
/// fma.rn.f64 in PTX, for kernels compiled for CUDA only (ILGPU 1.5 exposes no FMA). Operands go through
/// registers because ILGPU substitutes constant arguments as immediates, which fma rejects in some slots.
/// </summary>
readonly struct PtxFma : IFusedMultiplyAdd
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Fma(double a, double b, double c)
    {
        CudaAsm.Emit("{ .reg .f64 fa, fb, fc; mov.f64 fa, %1; mov.f64 fb, %2; mov.f64 fc, %3; fma.rn.f64 %0, fa, fb, fc; }",
                     out double result, a, b, c);
        return result;
    }
}
