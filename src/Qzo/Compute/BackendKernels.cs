using System.Runtime.CompilerServices;

namespace Qzo.Compute;

/// <summary>
/// One quantization format's kernels for each backend type: the format registers an implementation per backend
/// (its CPU loops, its GPU kernels), and <see cref="For"/> builds it once per backend instance, so that adding a
/// format adds no method to <see cref="IBackend"/>. A backend with no registered implementation is refused by name.
/// </summary>
public sealed class BackendKernels<TKernels> where TKernels : class
{
    readonly Dictionary<Type, Func<IBackend, TKernels>> _factories = [];
    readonly ConditionalWeakTable<IBackend, TKernels> _instances = new();

    public BackendKernels<TKernels> Register<TBackend>(Func<TBackend, TKernels> create) where TBackend : class, IBackend
    {
        _factories.Add(typeof(TBackend), backend => create((TBackend)backend));
        return this;
    }

    /// <summary>The implementation for <paramref name="backend"/>, made on first use and kept as long as the backend lives.</summary>
    public TKernels For(IBackend backend) => _instances.GetValue(backend, Create);

    TKernels Create(IBackend backend) =>
        _factories.TryGetValue(backend.GetType(), out var create) ? create(backend)
        : throw new NotSupportedException($"{typeof(TKernels).Name} has no implementation for the backend {backend.GetType().Name}");
}
