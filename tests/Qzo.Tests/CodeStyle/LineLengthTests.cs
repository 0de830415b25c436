namespace Qzo.Tests.CodeStyle;

/// <summary>
/// Keeps every C# line under src/ and tests/ within .editorconfig's max_line_length (build outputs in bin/ and obj/ aside).
/// </summary>
public class LineLengthTests
{
    const int MaxLineLength = 140;

    static readonly string[] SourceFolders = ["src", "tests"];

    [Fact]
    public void No_source_line_is_longer_than_the_limit()
    {
        string root = RepositoryRoot();
        var tooLong = new List<string>();
        var files = SourceFolders.SelectMany(folder =>
            Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories).Order());
        foreach (string file in files)
        {
            if (IsBuildOutput(root, file)) continue;
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                if (lines[i].Length > MaxLineLength)
                    tooLong.Add($"{Path.GetRelativePath(root, file)}:{i + 1} ({lines[i].Length} characters)");
        }
        Assert.True(tooLong.Count == 0,
            $"{tooLong.Count} lines are longer than {MaxLineLength} characters:\n{string.Join("\n", tooLong)}");
    }

    static bool IsBuildOutput(string root, string file) =>
        Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj");

    /// <summary>The folder above the test binaries that holds Qzo.sln.</summary>
    static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "Qzo.sln"))) return folder.FullName;
        throw new InvalidOperationException($"no Qzo.sln above {AppContext.BaseDirectory}");
    }
}
