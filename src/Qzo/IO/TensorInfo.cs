using Qzo.Numerics;

namespace Qzo.IO;

/// <summary>
/// One tensor of a safetensors file: its dtype, shape and byte range [Begin, End) relative to the start
/// of the data buffer (the file offset is 8 + header length + Begin).
/// </summary>
public sealed record TensorInfo(string Name, DType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Product of the shape; 1 for a scalar (shape []), 0 when any dimension is 0.</summary>
    public long ElementCount { get; } = Product(Shape);

    public long ByteLength => End - Begin;

    static long Product(long[] shape)
    {
        long n = 1;
        foreach (long d in shape) n *= d;
        return n;
    }
}
