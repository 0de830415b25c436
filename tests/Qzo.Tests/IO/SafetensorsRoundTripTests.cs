using System.Runtime.InteropServices;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Tests.IO;

public class SafetensorsRoundTripTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    static byte[] RandomBytes(int n, int seed)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void EveryDTypeShapeAndMetadataSurvivesWriteThenOpen()
    {
        var tensors = new List<TensorToWrite>();
        int seed = 0;
        foreach (var (dtype, name) in new[]
        {
            (DType.F32, "f32"), (DType.F16, "f16"), (DType.BF16, "bf16"), (DType.F64, "f64"), (DType.I64, "i64"),
            (DType.I32, "i32"), (DType.I16, "i16"), (DType.I8, "i8"), (DType.U8, "u8"), (DType.Bool, "bool"),
        })
        {
            long[] shape = [2, 3];
            tensors.Add(new TensorToWrite(name, dtype, shape, RandomBytes(6 * dtype.SizeInBytes(), seed++)));
        }
        tensors.Add(new TensorToWrite("scalar", DType.F32, [], BitConverter.GetBytes(3.5f)));
        tensors.Add(new TensorToWrite("empty", DType.I32, [4, 0, 2], Array.Empty<byte>()));
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "héllo \"quoted\"\n" };
        string path = temp.File("all.safetensors");

        SafetensorsWriter.Write(path, tensors, metadata);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(metadata.OrderBy(kv => kv.Key), file.Metadata.OrderBy(kv => kv.Key));
        Assert.Equal(tensors.Count, file.Tensors.Count);
        foreach (var t in tensors)
        {
            var info = file.Get(t.Name);
            Assert.Equal(t.DType, info.DType);
            Assert.Equal(t.Shape, info.Shape);
            Assert.Equal(t.Data.ToArray(), file.GetBytes(t.Name).ToArray());
        }
        Assert.Equal(1, file.Get("scalar").ElementCount);
        Assert.Equal(0, file.Get("empty").ElementCount);
        Assert.Equal(0, file.Get("empty").ByteLength);
        Assert.Empty(file.ReadInt32("empty"));
        Assert.Equal([3.5f], file.ReadFloat32("scalar"));
        Assert.Equal(MemoryMarshal.Cast<byte, long>(tensors[4].Data.Span).ToArray(), file.Read<long>("i64"));
        Assert.Equal(MemoryMarshal.Cast<byte, int>(tensors[5].Data.Span).ToArray(), file.ReadInt32("i32"));

        // Tensors come in data-offset order and tile the buffer.
        long position = 0;
        foreach (var info in file.Tensors)
        {
            Assert.Equal(position, info.Begin);
            position = info.End;
        }
        Assert.Equal(8 + file.HeaderJsonBytes.Length + position, new FileInfo(path).Length);
        Assert.Equal(0, file.HeaderJsonBytes.Length % 8);
    }

    [Fact]
    public void ReadFloat32WidensF16BF16AndF64ToKnownValues()
    {
        // F16 bit patterns: 1, -2, 0.5, 65504 (largest), 2^-24 (smallest subnormal).
        ushort[] f16 = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001];
        // BF16 bit patterns: 1, -2, 1.5, 2^-126 (smallest normal).
        ushort[] bf16 = [0x3F80, 0xC000, 0x3FC0, 0x0080];
        double[] f64 = [1.0 / 3, -1e10];
        string path = temp.File("floats.safetensors");
        SafetensorsWriter.Write(path,
        [
            new TensorToWrite("h", DType.F16, [5], MemoryMarshal.AsBytes(f16.AsSpan()).ToArray()),
            new TensorToWrite("b", DType.BF16, [2, 2], MemoryMarshal.AsBytes(bf16.AsSpan()).ToArray()),
            new TensorToWrite("d", DType.F64, [2], MemoryMarshal.AsBytes(f64.AsSpan()).ToArray()),
        ]);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal([1f, -2f, 0.5f, 65504f, MathF.Pow(2, -24)], file.ReadFloat32("h"));
        Assert.Equal([1f, -2f, 1.5f, MathF.Pow(2, -126)], file.ReadFloat32("b"));
        Assert.Equal([(float)(1.0 / 3), -1e10f], file.ReadFloat32("d"));
        Assert.Equal(bf16, file.Read<ushort>("b"));
    }

    [Fact]
    public void NoTensorsGivesAnEmptyDataSectionThatOpens()
    {
        string path = temp.File("none.safetensors");
        SafetensorsWriter.Write(path, []);

        Assert.Equal(16, new FileInfo(path).Length); // 8-byte length + "{}" padded to 8
        using var file = SafetensorsFile.Open(path);
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void OnlyEmptyTensorsGiveAnEmptyDataSectionThatOpens()
    {
        string path = temp.File("empties.safetensors");
        SafetensorsWriter.Write(path,
        [
            new TensorToWrite("a", DType.F32, [0], Array.Empty<byte>()),
            new TensorToWrite("b", DType.U8, [3, 0], Array.Empty<byte>()),
        ]);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["a", "b"], file.Tensors.Select(t => t.Name).Order());
        Assert.Empty(file.ReadFloat32("a"));
        Assert.True(file.GetBytes("b").IsEmpty);
    }

    [Fact]
    public void WrongTypedReadsNameTheTensorAndDType()
    {
        string path = temp.File("types.safetensors");
        SafetensorsWriter.Write(path,
        [
            new TensorToWrite("codes", DType.I16, [2], new byte[4]),
            new TensorToWrite("qweight", DType.I32, [1], new byte[4]),
            new TensorToWrite("scales", DType.F16, [2], new byte[4]),
        ]);
        using var file = SafetensorsFile.Open(path);

        var e = Assert.Throws<QzoException>(() => file.ReadFloat32("qweight"));
        Assert.Contains("'qweight'", e.Message);
        Assert.Contains("I32", e.Message);
        e = Assert.Throws<QzoException>(() => file.ReadInt32("codes"));
        Assert.Contains("'codes'", e.Message);
        Assert.Contains("I16", e.Message);
        e = Assert.Throws<QzoException>(() => file.Read<int>("scales"));
        Assert.Contains("'scales'", e.Message);
        Assert.Contains("F16", e.Message);
        e = Assert.Throws<QzoException>(() => file.Get("missing.weight"));
        Assert.Contains("'missing.weight'", e.Message);
        Assert.Contains("types.safetensors", e.Message);
        Assert.False(file.Contains("missing.weight"));
        Assert.True(file.Contains("scales"));
    }

    [Fact]
    public unsafe void TensorsOver2GiBAreRefusedAsSpansButReachableByPointer()
    {
        // A sparse file: the 2 GiB of zeros take no disk space.
        long length = (long)int.MaxValue + 1;
        string header = $"{{\"big\":{{\"dtype\":\"U8\",\"shape\":[{length}],\"data_offsets\":[0,{length}]}}}}";
        string path = temp.File("big.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build(header, 0));
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(stream.Length + length);

        using var file = SafetensorsFile.Open(path);
        var e = Assert.Throws<QzoException>(() => file.GetBytes("big"));
        Assert.Contains("'big'", e.Message);
        Assert.Contains("GetPointer", e.Message);
        byte* p = file.GetPointer("big", out long byteLength);
        Assert.Equal(length, byteLength);
        Assert.Equal(0, p[length - 1]);
    }

    [Fact]
    public void UseAfterDisposeThrows()
    {
        string path = temp.File("d.safetensors");
        SafetensorsWriter.Write(path, [new TensorToWrite("a", DType.U8, [1], new byte[1])]);
        var file = SafetensorsFile.Open(path);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.GetBytes("a").Length);
    }
}
