using System.Runtime.CompilerServices;

namespace Qzo.Numerics;

/// <summary>
/// a·b + c rounded once. A struct strategy rather than a runtime branch, so code compiled for a GPU contains
/// only the GPU's instruction (ILGPU turns a managed fallback into an unresolvable external call).
/// </summary>
public interface IFusedMultiplyAdd
{
    double Fma(double a, double b, double c);
}

/// <summary>The CPU's hardware FMA (or .NET's exact software one).</summary>
public readonly struct CpuFma : IFusedMultiplyAdd
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Fma(double a, double b, double c) => Math.FusedMultiplyAdd(a, b, c);
}
