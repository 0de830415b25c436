namespace Qzo.Tests;

static class TestPaths
{
    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);
}

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "qzo-test-" + Guid.NewGuid().ToString("N"));
    public string this[string name] => System.IO.Path.Combine(Path, name);
    public void Dispose() { if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true); }
}
