using System.Text;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Tests.IO;

public class SafetensorsWriteReplacingTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    string WriteSource()
    {
        string path = temp.File("source.safetensors");
        SafetensorsWriter.Write(path,
        [
            new TensorToWrite("layer.qweight", DType.I32, [2, 2], Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()),
            new TensorToWrite("layer.scales", DType.F16, [2], new byte[] { 0x00, 0x3C, 0x00, 0x40 }),
            new TensorToWrite("layer.g_idx", DType.I32, [3], new byte[12]),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        return path;
    }

    [Fact]
    public void NoReplacementsGivesAByteIdenticalFile()
    {
        string source = WriteSource();
        string copy = temp.File("copy.safetensors");
        using (var file = SafetensorsFile.Open(source))
            SafetensorsWriter.WriteReplacing(file, copy, new Dictionary<string, ReadOnlyMemory<byte>>());
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(copy));
    }

    [Fact]
    public void NonCanonicalSourceHeaderIsKeptByteForByte()
    {
        // Key order, spacing and padding unlike our writer's: the copy must still be identical.
        string header = "{ \"b\": {\"shape\":[2],\"dtype\":\"U8\",\"data_offsets\":[3,5]},\n " +
            "\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]} }     ";
        byte[] bytes = RawSafetensors.Build(Encoding.UTF8.GetBytes(header), [1, 2, 3, 4, 5]);
        string source = temp.File("odd.safetensors"), copy = temp.File("copy.safetensors");
        File.WriteAllBytes(source, bytes);

        using (var file = SafetensorsFile.Open(source))
            SafetensorsWriter.WriteReplacing(file, copy, new Dictionary<string, ReadOnlyMemory<byte>> { ["b"] = new byte[] { 8, 9 } });

        byte[] expected = (byte[])bytes.Clone();
        expected[^2] = 8;
        expected[^1] = 9;
        Assert.Equal(expected, File.ReadAllBytes(copy));
    }

    [Fact]
    public void OneReplacementChangesOnlyThatTensorsBytes()
    {
        string source = WriteSource();
        string copy = temp.File("copy.safetensors");
        byte[] newScales = [0x00, 0xBC, 0x00, 0xC0];
        long begin;
        using (var file = SafetensorsFile.Open(source))
        {
            begin = 8 + file.HeaderJsonBytes.Length + file.Get("layer.scales").Begin;
            SafetensorsWriter.WriteReplacing(file, copy, new Dictionary<string, ReadOnlyMemory<byte>> { ["layer.scales"] = newScales });
        }

        byte[] before = File.ReadAllBytes(source), after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
        Assert.NotEmpty(changed);
        Assert.All(changed, i => Assert.InRange(i, begin, begin + newScales.Length - 1));
        Assert.Equal(newScales, after.AsSpan((int)begin, newScales.Length).ToArray());
        using var reopened = SafetensorsFile.Open(copy);
        Assert.Equal([-1f, -2f], reopened.ReadFloat32("layer.scales"));
    }

    [Fact]
    public void CanRewriteItsOwnSourcePath()
    {
        string source = WriteSource();
        using (var file = SafetensorsFile.Open(source))
            SafetensorsWriter.WriteReplacing(file, source,
                new Dictionary<string, ReadOnlyMemory<byte>> { ["layer.g_idx"] = new byte[] { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 } });
        using var reopened = SafetensorsFile.Open(source);
        Assert.Equal([1, 1, 1], reopened.ReadInt32("layer.g_idx"));
        Assert.Equal(["source.safetensors"], temp.FileNames());
    }

    [Fact]
    public void WrongLengthOrUnknownTensorIsRefusedWithoutLeftovers()
    {
        string source = WriteSource();
        string copy = temp.File("copy.safetensors");
        using var file = SafetensorsFile.Open(source);

        var e = Assert.Throws<QzoException>(() =>
            SafetensorsWriter.WriteReplacing(file, copy, new Dictionary<string, ReadOnlyMemory<byte>> { ["layer.scales"] = new byte[2] }));
        Assert.Contains("'layer.scales'", e.Message);
        Assert.Contains("copy.safetensors", e.Message);

        e = Assert.Throws<QzoException>(() =>
            SafetensorsWriter.WriteReplacing(file, copy, new Dictionary<string, ReadOnlyMemory<byte>> { ["nope"] = new byte[2] }));
        Assert.Contains("'nope'", e.Message);
        Assert.Equal(["source.safetensors"], temp.FileNames());
    }
}
