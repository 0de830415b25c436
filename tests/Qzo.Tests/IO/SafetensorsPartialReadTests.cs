using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Tests.IO;

/// <summary>
/// SafetensorsFile.ReadFloat32 of a whole large tensor (converted in parallel chunks), of a range of it (as the 4-bit
/// quantizer reads a weight chunk by chunk), and GetMemory (a tensor's bytes without a copy).
/// </summary>
public class SafetensorsPartialReadTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    const int Count = 3 * (1 << 18) + 5; // several conversion chunks and a short one

    SafetensorsFile Written(out float[] values)
    {
        var random = new Random(1);
        values = Enumerable.Range(0, Count).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
        string path = temp.File("w.safetensors");
        SafetensorsWriter.Write(path,
        [
            new TensorToWrite("b", DType.BF16, [Count], DTypes.FromSingle(DType.BF16, values)),
            new TensorToWrite("h", DType.F16, [Count], DTypes.FromSingle(DType.F16, values)),
            new TensorToWrite("f", DType.F32, [Count], DTypes.FromSingle(DType.F32, values)),
            new TensorToWrite("i", DType.I32, [2], new byte[8]),
        ]);
        return SafetensorsFile.Open(path);
    }

    [Fact]
    public void AWholeTensorIsEveryValueWidenedOnItsOwn()
    {
        using var file = Written(out var values);
        var bits = file.Read<ushort>("b");
        var b = file.ReadFloat32("b");
        for (int i = 0; i < Count; i++) Assert.Equal(BFloat16.ToSingle(bits[i]), b[i]);
        Assert.Equal(values.Select(v => (float)(Half)v), file.ReadFloat32("h"));
        Assert.Equal(values, file.ReadFloat32("f"));
    }

    [Theory]
    [InlineData("b")]
    [InlineData("h")]
    [InlineData("f")]
    public void ARangeIsThatPartOfTheWholeTensor(string name)
    {
        using var file = Written(out _);
        var whole = file.ReadFloat32(name);
        foreach (var (start, length) in new[] { (0, 1), (0, 1 << 16), (1 << 18, 1 << 16), (Count - 7, 7), (12345, 1001), (Count, 0) })
        {
            var part = new float[length];
            file.ReadFloat32(name, start, part);
            Assert.Equal(whole.AsSpan(start, length).ToArray(), part);
        }
    }

    [Fact]
    public void ARangeOutsideTheTensorOrOfANonFloatTensorIsRefused()
    {
        using var file = Written(out _);
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadFloat32("b", Count - 3, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadFloat32("b", -1, new float[1]));
        var e = Assert.Throws<QzoException>(() => file.ReadFloat32("i", 0, new float[1]));
        Assert.Equal(Assert.Throws<QzoException>(() => file.ReadFloat32("i")).Message, e.Message);
    }

    [Fact]
    public void GetMemoryIsTheTensorsBytes()
    {
        using var file = Written(out _);
        foreach (var name in new[] { "b", "h", "f", "i" })
            Assert.Equal(file.GetBytes(name).ToArray(), file.GetMemory(name).ToArray());
    }
}
