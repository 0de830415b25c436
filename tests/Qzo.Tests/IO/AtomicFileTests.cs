using Qzo.IO;

namespace Qzo.Tests.IO;

public class AtomicFileTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    [Fact]
    public void WritesTextAsUtf8WithoutBomAndLeavesNoTemporaryFile()
    {
        string path = temp.File("a.txt");
        AtomicFile.WriteAllText(path, "héllo");
        Assert.Equal("héllo"u8.ToArray(), File.ReadAllBytes(path));
        AtomicFile.WriteAllBytes(path, [1, 2]);
        Assert.Equal([1, 2], File.ReadAllBytes(path));
        Assert.Equal(["a.txt"], temp.FileNames());
    }

    [Fact]
    public void ExceptionWhileWritingDeletesTheTemporaryFileAndKeepsTheOldOne()
    {
        string path = temp.File("a.bin");
        File.WriteAllBytes(path, [7]);
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write([1, 2, 3]);
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal([7], File.ReadAllBytes(path));
        Assert.Equal(["a.bin"], temp.FileNames());
    }

    [Fact]
    public void MissingFolderIsAClearError()
    {
        var e = Assert.Throws<QzoException>(() => AtomicFile.WriteAllText(temp.File("no/such/a.txt"), "x"));
        Assert.Contains("does not exist", e.Message);
    }
}
