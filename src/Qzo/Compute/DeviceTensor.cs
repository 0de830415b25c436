using Qzo.Numerics;

namespace Qzo.Compute;

/// <summary>
/// A flat buffer owned by a backend. Shapes live with the caller (every op takes its dimensions),
/// as in llm.c: the buffer knows only its element type, length and what it is for.
/// </summary>
public abstract class DeviceTensor : IDisposable
{
    protected DeviceTensor(DType dtype, long length, MemoryCategory category)
    {
        DType = dtype;
        Length = length;
        Category = category;
    }

    public DType DType { get; }
    public long Length { get; }
    public MemoryCategory Category { get; }
    public long ByteLength => Length * DType.SizeInBytes();

    public abstract void Dispose();
}
