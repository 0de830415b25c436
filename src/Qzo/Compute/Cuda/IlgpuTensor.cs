using ILGPU;
using ILGPU.Runtime;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>A device buffer of raw bytes, viewed as whatever element type a kernel needs.</summary>
internal sealed class IlgpuTensor : DeviceTensor
{
    readonly MemoryTracker _tracker;
    MemoryBuffer1D<byte, Stride1D.Dense>? _buffer;

    internal IlgpuTensor(Accelerator accelerator, DType dtype, long length, MemoryCategory category, MemoryTracker tracker)
        : base(dtype, length, category)
    {
        _tracker = tracker;
        _buffer = accelerator.Allocate1D<byte>(Math.Max(ByteLength, 1));
        _tracker.Allocated(category, ByteLength);
    }

    MemoryBuffer1D<byte, Stride1D.Dense> Buffer => _buffer ?? throw new ObjectDisposedException(nameof(IlgpuTensor));

    internal ArrayView<T> View<T>() where T : unmanaged => ((ArrayView<byte>)Buffer.View).SubView(0, ByteLength).Cast<T>();

    /// <summary>The raw device address, for cuBLAS.</summary>
    internal IntPtr Pointer => ((ArrayView<byte>)Buffer.View).LoadEffectiveAddressAsPtr();

    public override void Dispose()
    {
        if (_buffer is null) return;
        // After a failed kernel the context is unusable and every free reports that failure again; the first
        // error is the one that matters, so a failed release must not replace it.
        try { _buffer.Dispose(); }
        catch (Exception e) when (e.GetType().Name == "CudaException") { }
        _buffer = null;
        _tracker.Freed(Category, ByteLength);
    }
}
