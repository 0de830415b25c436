using System.Buffers.Binary;
using Qzo.Tests.Models;
using Qzo.Tests.Tasks;

namespace Qzo.Tests.Cli;

/// <summary>
/// Parquet files with valid PAR1 markers but garbage inside (issue 12, case 15): whatever Parquet.Net throws on them,
/// the command says the file is corrupt in one line and exits 1, for eval and finetune alike.
/// </summary>
public class CorruptParquetTests
{
    const int Tail = 8; // the footer length (4 bytes, little-endian) and the closing PAR1

    static readonly byte[] Par1 = "PAR1"u8.ToArray();

    static int FooterLength(byte[] file) => BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(file.Length - Tail));

    static byte[] Random(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static TheoryData<string> Kinds => ["random-between-markers", "random-footer", "footer-length-outside", "footer-length-negative",
                                               "truncated-footer", "markers-only", "zeroed-footer", "random-row-groups"];

    static byte[] Corrupt(byte[] good, string kind)
    {
        int footer = FooterLength(good), footerStart = good.Length - Tail - footer;
        var bad = (byte[])good.Clone();
        switch (kind)
        {
            case "random-between-markers":
                return [.. Par1, .. Random(3000, 1), .. Par1];
            case "random-footer":
                Random(footer, 2).CopyTo(bad, footerStart);
                return bad;
            case "footer-length-outside":
                BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(bad.Length - Tail), good.Length * 4);
                return bad;
            case "footer-length-negative":
                BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(bad.Length - Tail), -5);
                return bad;
            case "truncated-footer":
                return [.. good.AsSpan(0, footerStart + footer / 2), .. good.AsSpan(good.Length - Tail)];
            case "markers-only":
                return [.. Par1, 0, 0, 0, 0, .. Par1];
            case "zeroed-footer":
                Array.Clear(bad, footerStart, footer);
                return bad;
            case "random-row-groups":
                Random(footerStart - 4, 3).CopyTo(bad, 4);
                return bad;
            default: throw new ArgumentException(kind);
        }
    }

    static string CorruptCopy(TempFolder folder, string kind)
    {
        string data = folder["sst2"];
        Directory.CreateDirectory(data);
        foreach (var file in Directory.GetFiles(TaskFixtures.Parquet("sst2"))) File.Copy(file, Path.Combine(data, Path.GetFileName(file)));
        string bad = Path.Combine(data, "validation-00000-of-00001.parquet");
        File.WriteAllBytes(bad, Corrupt(File.ReadAllBytes(bad), kind));
        return data;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EvalAndFinetuneSayTheFileIsCorrupt(string kind)
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = CorruptCopy(folder, kind);
        string bad = Path.Combine(data, "validation-00000-of-00001.parquet");
        CliAssert.FailsWithOneLine(
            CliProcess.Run("eval", model, "--task", "sst2", "--data", data, "--run", folder["eval"], "--device", "cpu"),
            bad, "corrupt Parquet file");
        CliAssert.FailsWithOneLine(
            CliProcess.Run("finetune", model, "--task", "sst2", "--data", data, "--run", folder["tune"], "--steps", "1", "--device", "cpu"),
            bad, "corrupt Parquet file");
    }
}
