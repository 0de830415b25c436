using System.Reflection;
using Qzo.Compute;
using Qzo.Quantization.Aqlm.Kernels;
using Qzo.Quantization.Bnb.Kernels;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.Tests.Compute;

/// <summary>
/// Every operation of <see cref="IBackend"/> and of every format's registered kernel interface has a CPU-versus-GPU case
/// (docs/kernels.md §4): a test marked <see cref="CoversBackendOperationAttribute"/> in the GPU simulator's collection.
/// Operations are named by method name, so the cases of a name cover all its overloads.
/// </summary>
public class BackendCoverageTests
{
    /// <summary>The kernel interfaces the formats register per backend: the type argument of every BackendKernels table.</summary>
    public static IReadOnlyList<Type> FormatKernelInterfaces() =>
        typeof(IBackend).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(f => f.FieldType)
            .Where(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(BackendKernels<>))
            .Select(t => t.GetGenericArguments()[0])
            .Distinct().OrderBy(t => t.Name).ToList();

    /// <summary>"Interface.Method" for every operation that needs a case (methods, not property accessors).</summary>
    public static IReadOnlyList<string> Operations() =>
        FormatKernelInterfaces().Prepend(typeof(IBackend))
            .SelectMany(i => i.GetMethods().Where(m => !m.IsSpecialName).Select(m => $"{i.Name}.{m.Name}"))
            .Distinct().Order().ToList();

    static IEnumerable<(MethodInfo Test, CoversBackendOperationAttribute Covers)> Cases() =>
        typeof(BackendCoverageTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static))
            .SelectMany(m => m.GetCustomAttributes<CoversBackendOperationAttribute>().Select(a => (m, a)));

    [Fact]
    public void TheFormatsKernelInterfacesAreFound()
    {
        var found = FormatKernelInterfaces();
        Assert.Contains(typeof(IGptqKernels), found);
        Assert.Contains(typeof(IAqlmKernels), found);
        Assert.Contains(typeof(IBnb4BitKernels), found);
        Assert.Contains("IBackend.RmsNorm", Operations());
        Assert.DoesNotContain("IBackend.get_Name", Operations());
    }

    [Fact]
    public void EveryOperationHasACpuVersusGpuCase()
    {
        var covered = Cases().Select(c => $"{c.Covers.Interface.Name}.{c.Covers.Operation}").ToHashSet();
        var missing = Operations().Where(o => !covered.Contains(o)).ToList();
        Assert.True(missing.Count == 0,
            $"no CPU-versus-GPU case (a test marked [CoversBackendOperation]) for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void EveryMarkedCaseIsAGpuSimulatorTestOfAnExistingOperation()
    {
        var operations = Operations().ToHashSet();
        foreach (var (test, covers) in Cases())
        {
            string name = $"{test.DeclaringType!.Name}.{test.Name}";
            Assert.True(operations.Contains($"{covers.Interface.Name}.{covers.Operation}"),
                $"{name} claims {covers.Interface.Name}.{covers.Operation}, which is not a backend or format kernel operation");
            Assert.True(test.GetCustomAttribute<FactAttribute>() is not null,
                $"{name} is marked as a CPU-versus-GPU case but is not a test");
            var collection = test.DeclaringType.GetCustomAttributesData()
                .FirstOrDefault(a => a.AttributeType == typeof(CollectionAttribute));
            Assert.True(collection?.ConstructorArguments[0].Value as string == GpuSimulatorCollection.Name,
                $"{name} is marked as a CPU-versus-GPU case but does not run in the GPU simulator's collection");
        }
    }
}
