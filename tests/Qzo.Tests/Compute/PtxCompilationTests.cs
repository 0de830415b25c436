using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;
using Qzo.Compute.Cuda.Kernels;
using Qzo.Quantization.Aqlm.Kernels;
using Qzo.Quantization.Bnb.Kernels;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.Tests.Compute;

/// <summary>
/// Compiles every GPU kernel to PTX here, without a GPU, as ILGPU does on the H100 (target sm_80, PTX ISA 8.8):
/// a kernel that uses something the PTX backend cannot lower fails in CI instead of on the device.
/// </summary>
public class PtxCompilationTests
{
    static readonly Type[] KernelClasses =
    [
        typeof(ElementwiseKernels), typeof(RmsNormKernel), typeof(LayerNormKernel), typeof(RopeKernel), typeof(AttentionKernel),
        typeof(WarpAttentionKernel), typeof(CrossEntropyKernel), typeof(GptqDequantKernel), typeof(Bnb4BitDequantKernel),
        typeof(AqlmDequantKernel), typeof(GemmFallbackKernel), typeof(KvCacheKernels),
        typeof(ActivationKernels), typeof(ConvolutionKernels), typeof(GroupNormKernels), typeof(DiffusionElementwiseKernels),
        typeof(FullAttentionKernel), typeof(AttentionGemmKernels), typeof(LayoutKernels),
    ];

    public static IEnumerable<object[]> Kernels() =>
        KernelClasses.SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.ReturnType == typeof(void))
            .Select(m => new object[] { t.Name, m.Name }));

    static string CompileToPtx(string type, string method)
    {
        var kernel = KernelClasses.Single(t => t.Name == type).GetMethod(method, BindingFlags.Public | BindingFlags.Static)!;
        // as the kernel sets load them on CUDA: the FMA strategy, or bf16 elements for the layout kernels
        if (kernel.IsGenericMethodDefinition)
            kernel = kernel.MakeGenericMethod(kernel.GetGenericArguments()[0].GetGenericParameterConstraints()
                .Contains(typeof(Qzo.Numerics.IFusedMultiplyAdd)) ? typeof(PtxFma) : typeof(ushort));
        using var context = Context.Create(builder => builder.Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_88, nvvmAPI: null!);
        bool implicitlyGrouped = kernel.GetParameters()[0].ParameterType == typeof(Index1D);
        var entry = implicitlyGrouped
            ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        return ((PTXCompiledKernel)backend.Compile(entry, default)).PTXAssembly;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesToPtxForTheH100(string type, string method)
    {
        var ptx = CompileToPtx(type, method);
        Assert.Contains(".target sm_80", ptx);
        Assert.Contains(".entry", ptx);
        Assert.DoesNotContain(".extern", ptx); // a call the driver cannot resolve (e.g. a managed method ILGPU could not lower)
    }

    [Fact]
    public void TheDirectionZUsesExactDoubleArithmeticOnly()
    {
        var ptx = CompileToPtx(nameof(ElementwiseKernels), nameof(ElementwiseKernels.PerturbedCopyToF32));
        Assert.Contains("fma.rn.f64", ptx);
        Assert.Contains("div.rn.f64", ptx);
        Assert.Contains("sqrt.rn.f64", ptx);
        foreach (var approximate in new[] { "cos.approx", "sin.approx", "lg2.approx", "ex2.approx" })
            Assert.DoesNotContain(approximate, ptx);
    }
}
