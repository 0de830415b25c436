using Qzo.Compute;

namespace Qzo.Tests.Compute;

/// <summary>
/// Marks a test that runs <see cref="Operation"/> of <see cref="Interface"/> (<see cref="IBackend"/>, or a format's kernel
/// interface registered through <see cref="BackendKernels{TKernels}"/>) on the CPU reference and on the GPU backend with the
/// same inputs, and compares the results. <see cref="BackendCoverageTests"/> requires at least one per operation; a test
/// that merely calls an operation on its way to something else does not carry it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class CoversBackendOperationAttribute(Type @interface, string operation) : Attribute
{
    public CoversBackendOperationAttribute(string operation) : this(typeof(IBackend), operation) { }

    public Type Interface { get; } = @interface;
    public string Operation { get; } = operation;
}
