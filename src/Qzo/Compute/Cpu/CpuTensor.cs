using System.Runtime.InteropServices;
using Qzo.Numerics;

namespace Qzo.Compute.Cpu;

/// <summary>A 64-byte-aligned native buffer, counted by the backend's <see cref="MemoryTracker"/>.</summary>
internal sealed unsafe class CpuTensor : DeviceTensor
{
    readonly MemoryTracker _tracker;
    void* _pointer;

    internal CpuTensor(DType dtype, long length, MemoryCategory category, MemoryTracker tracker)
        : base(dtype, length, category)
    {
        _tracker = tracker;
        nuint bytes = (nuint)Math.Max(ByteLength, 1);
        _pointer = NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_pointer, bytes);
        _tracker.Allocated(category, ByteLength);
    }

    public void* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(CpuTensor));

    public Span<T> Span<T>() where T : unmanaged
    {
        long count = ByteLength / sizeof(T);
        if (count > int.MaxValue) throw new InvalidOperationException($"a {ByteLength}-byte buffer is too large for one span");
        return new Span<T>(Pointer, (int)count);
    }

    /// <summary>The buffer as <see cref="Memory{T}"/> (valid while the tensor lives).</summary>
    public Memory<T> Memory<T>() where T : unmanaged => new NativeMemoryManager<T>(this).Memory;

    public override void Dispose()
    {
        if (_pointer == null) return;
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
        _tracker.Freed(Category, ByteLength);
    }
}
