using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Tests.IO;

/// <summary>Write refuses bad input without leaving a temporary file or touching an existing file.</summary>
public class SafetensorsWriterTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    QzoException WriteFails(params TensorToWrite[] tensors)
    {
        string path = temp.File("out.safetensors");
        var e = Assert.Throws<QzoException>(() => SafetensorsWriter.Write(path, tensors));
        Assert.Contains("out.safetensors", e.Message);
        Assert.Empty(temp.FileNames());
        return e;
    }

    [Fact]
    public void DataLengthMismatch()
    {
        var e = WriteFails(new TensorToWrite("ok", DType.U8, [1], new byte[1]), new TensorToWrite("w", DType.F32, [2, 2], new byte[12]));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("needs 16", e.Message);
    }

    [Fact]
    public void DuplicateNames() =>
        Assert.Contains("'w' is given twice",
            WriteFails(new TensorToWrite("w", DType.U8, [1], new byte[1]), new TensorToWrite("w", DType.U8, [1], new byte[1])).Message);

    [Fact]
    public void NegativeDimension() =>
        Assert.Contains("negative", WriteFails(new TensorToWrite("w", DType.U8, [-1], new byte[1])).Message);

    [Fact]
    public void MetadataKeyAsTensorName() =>
        Assert.Contains("reserved", WriteFails(new TensorToWrite("__metadata__", DType.U8, [1], new byte[1])).Message);

    [Fact]
    public void FailedWriteLeavesTheExistingFileAsItWas()
    {
        string path = temp.File("out.safetensors");
        SafetensorsWriter.Write(path, [new TensorToWrite("a", DType.U8, [2], new byte[] { 1, 2 })]);
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<QzoException>(() => SafetensorsWriter.Write(path, [new TensorToWrite("a", DType.U8, [3], new byte[] { 1, 2 })]));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["out.safetensors"], temp.FileNames());
    }

    [Fact]
    public void OverwritesAFileThatIsStillOpenAndMapped()
    {
        string path = temp.File("out.safetensors");
        SafetensorsWriter.Write(path, [new TensorToWrite("a", DType.U8, [2], new byte[] { 1, 2 })]);
        using var old = SafetensorsFile.Open(path);

        SafetensorsWriter.Write(path, [new TensorToWrite("a", DType.U8, [2], new byte[] { 3, 4 })]);

        Assert.Equal([1, 2], old.GetBytes("a").ToArray()); // the old mapping keeps the old file
        using var fresh = SafetensorsFile.Open(path);
        Assert.Equal([3, 4], fresh.GetBytes("a").ToArray());
    }
}
