using System.Buffers;

namespace Qzo.IO;

/// <summary>A <see cref="Memory{T}"/> over bytes of a memory-mapped file, valid while the mapping is (no copy is made).</summary>
sealed unsafe class MappedMemory(byte* start, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new(start, length);
    public override MemoryHandle Pin(int elementIndex = 0) => new(start + elementIndex);
    public override void Unpin() { }
    protected override void Dispose(bool disposing) { }
}
