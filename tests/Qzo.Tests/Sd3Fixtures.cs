using System.Formats.Tar;
using System.IO.Compression;

namespace Qzo.Tests;

/// <summary>
/// The SD3.5 parity fixtures (tests/oracle/sd3_reference.py records them on the GPU machine with diffusers v0.39.0 and
/// transformers 5.17) are stored one gzipped tar per case, tests/fixtures/sd3/CASE.tar.gz: their token tables are mostly
/// zero rows, 38 MB as files against 11 MB packed. <see cref="Case"/> unpacks one next to the test binaries on first use.
/// </summary>
static class Sd3Fixtures
{
    static readonly object Gate = new();

    /// <summary>The folder of one case (clip-l-fp32, transformer-bf16, pipeline-fp32, tokenizer-ids, ...).</summary>
    public static string Case(string name)
    {
        string archive = TestPaths.Fixture("sd3", name + ".tar.gz");
        string root = Path.Combine(AppContext.BaseDirectory, "fixtures-unpacked", "sd3");
        string folder = Path.Combine(root, name), done = Path.Combine(root, name + ".unpacked");
        lock (Gate)
        {
            if (File.Exists(done) && File.GetLastWriteTimeUtc(done) >= File.GetLastWriteTimeUtc(archive)) return folder;
            Assert.True(File.Exists(archive), $"{archive} is missing: tests/oracle/run-sd3-oracle.sh records the SD3 fixtures");
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.CreateDirectory(root);
            using (var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress))
                TarFile.ExtractToDirectory(gzip, root, overwriteFiles: true);
            Assert.True(Directory.Exists(folder), $"{archive} does not hold the folder {name}/");
            File.WriteAllText(done, "");
            return folder;
        }
    }
}
