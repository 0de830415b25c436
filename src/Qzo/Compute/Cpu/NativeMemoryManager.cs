using System.Buffers;

namespace Qzo.Compute.Cpu;

/// <summary>
/// A <see cref="Memory{T}"/> over a <see cref="CpuTensor"/>'s native buffer, for code that hands spans to parallel loops.
/// </summary>
sealed unsafe class NativeMemoryManager<T>(CpuTensor tensor) : MemoryManager<T> where T : unmanaged
{
    public override Span<T> GetSpan() => tensor.Span<T>();
    public override MemoryHandle Pin(int elementIndex = 0) => new((T*)tensor.Pointer + elementIndex);
    public override void Unpin() { }
    protected override void Dispose(bool disposing) { }
}
