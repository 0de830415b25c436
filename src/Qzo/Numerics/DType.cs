namespace Qzo.Numerics;

/// <summary>Element types as safetensors names them.</summary>
public enum DType { Bool, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 }

public static class DTypes
{
    public static int SizeInBytes(this DType t) => t switch
    {
        DType.Bool or DType.U8 or DType.I8 => 1,
        DType.I16 or DType.U16 or DType.F16 or DType.BF16 => 2,
        DType.I32 or DType.U32 or DType.F32 => 4,
        DType.F64 or DType.I64 or DType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static string Name(this DType t) => t.ToString().ToUpperInvariant();

    public static bool TryParse(string name, out DType type) => name switch
    {
        "BOOL" => Set(DType.Bool, out type), "U8" => Set(DType.U8, out type), "I8" => Set(DType.I8, out type),
        "I16" => Set(DType.I16, out type), "U16" => Set(DType.U16, out type), "F16" => Set(DType.F16, out type),
        "BF16" => Set(DType.BF16, out type), "I32" => Set(DType.I32, out type), "U32" => Set(DType.U32, out type),
        "F32" => Set(DType.F32, out type), "F64" => Set(DType.F64, out type), "I64" => Set(DType.I64, out type),
        "U64" => Set(DType.U64, out type),
        _ => Set(default, out type) && false,
    };

    static bool Set(DType value, out DType type) { type = value; return true; }

    public static bool IsFloat(this DType t) => t is DType.F16 or DType.BF16 or DType.F32 or DType.F64;

    /// <summary>Widens raw little-endian floats of type <paramref name="t"/> to float32.</summary>
    public static void ToSingle(DType t, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (t)
        {
            case DType.F32:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case DType.F16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(
                    System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case DType.BF16:
                BFloat16.ToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            case DType.F64:
                var d = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(source);
                for (int i = 0; i < d.Length; i++) destination[i] = (float)d[i];
                break;
            default:
                throw new ArgumentException($"{t} is not a floating-point type");
        }
    }

    /// <summary>Narrows float32 to raw little-endian floats of type <paramref name="t"/> (round to nearest even).</summary>
    public static byte[] FromSingle(DType t, ReadOnlySpan<float> source)
    {
        var bytes = new byte[source.Length * t.SizeInBytes()];
        switch (t)
        {
            case DType.F32:
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(source).CopyTo(bytes);
                break;
            case DType.F16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(source,
                    System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes.AsSpan()));
                break;
            case DType.BF16:
                if (source.Length < ParallelThreshold)
                {
                    var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan());
                    for (int i = 0; i < source.Length; i++) bits[i] = BFloat16.FromSingle(source[i]);
                }
                else
                    ToBFloat16InParallel(source, bytes);
                break;
            case DType.F64:
                var d = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes.AsSpan());
                for (int i = 0; i < source.Length; i++) d[i] = source[i];
                break;
            default:
                throw new ArgumentException($"{t} is not a floating-point type");
        }
        return bytes;
    }

    /// <summary>Arrays this long convert in parallel chunks (the synthesis of multi-GB checkpoints is bound by this loop).</summary>
    const int ParallelThreshold = 1 << 20;

    static unsafe void ToBFloat16InParallel(ReadOnlySpan<float> source, byte[] bytes)
    {
        const int chunk = 1 << 18;
        int length = source.Length;
        fixed (float* from = source)
        fixed (byte* to = bytes)
        {
            nint f = (nint)from, t = (nint)to;
            Parallel.For(0, (length + chunk - 1) / chunk, c =>
            {
                int start = c * chunk, end = Math.Min(length, start + chunk);
                float* x = (float*)f;
                ushort* bits = (ushort*)t;
                for (int i = start; i < end; i++) bits[i] = BFloat16.FromSingle(x[i]);
            });
        }
    }
}
