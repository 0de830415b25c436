using System.Text;
using System.Text.RegularExpressions;
using Qzo.Tests.Models;
using Qzo.Tests.Tasks;

namespace Qzo.Tests.Cli;

/// <summary>
/// JSONL data that cannot be used as it is (issue 12, cases 8, 9 and 11): each refused with one line naming the file
/// and line, or, for a row that scores nothing, skipped and counted.
/// </summary>
public class JsonlDataTests
{
    static readonly byte[] Latin1Row = [.. "{\"text\": \"caf"u8, 0xE9, .. "\"}\n"u8]; // "café" in Latin-1: 0xE9 alone is not UTF-8

    static string WriteBytes(string path, params byte[][] lines)
    {
        File.WriteAllBytes(path, lines.SelectMany(l => l).ToArray());
        return path;
    }

    static byte[] Line(string json) => Encoding.UTF8.GetBytes(json + "\n");

    [Fact]
    public void NonUtf8RowIsRefusedByEveryJsonlReaderWithFileAndLine()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = WriteBytes(folder["data.jsonl"], Line("{\"text\": \"fine\"}"), Latin1Row);
        string where = data + ":2: not valid UTF-8";

        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", data, "--device", "cpu"), where);
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--device", "cpu"), where);
        string good = TeacherData.Write(folder["good.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", good, "--validation", data, "--steps", "1",
                                                  "--device", "cpu"),
                                   where);
        CliAssert.FailsWithOneLine(CliProcess.Run("quantize", TinyModels.Dense(folder, name: "dense-cal"), folder["out"],
                                                  "--method", "gptq", "--calibration", data), where);
        string prompts = WriteBytes(folder["prompts.jsonl"], Line("{\"prompt\": \"fine\"}"),
                                    [.. "{\"prompt\": \"caf"u8, 0xE9, .. "\"}\n"u8]);
        CliAssert.FailsWithOneLine(CliProcess.Run("generate", model, "--prompts", prompts, "--max-new-tokens", "2", "--device", "cpu"),
                                   prompts + ":2: not valid UTF-8");

        string task = folder["sst2"];
        Directory.CreateDirectory(task);
        foreach (var file in Directory.GetFiles(TaskFixtures.Jsonl("sst2"))) File.Copy(file, Path.Combine(task, Path.GetFileName(file)));
        string validation = Path.Combine(task, "validation.jsonl");
        var rows = File.ReadAllLines(validation);
        WriteBytes(validation, Line(rows[0]), [.. "{\"sentence\": \"caf"u8, 0xE9, .. "\", \"label\": 1, \"idx\": 9}\n"u8], Line(rows[1]));
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--task", "sst2", "--data", task, "--device", "cpu"),
                                   validation + ":2: not valid UTF-8");
    }

    [Fact]
    public void MissingFileFolderAndInvalidJsonNameTheFile()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", folder["none.jsonl"], "--device", "cpu"),
                                   folder["none.jsonl"], "not found");
        Directory.CreateDirectory(folder["dir.jsonl"]);
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", folder["dir.jsonl"], "--device", "cpu"),
                                   folder["dir.jsonl"], "is a folder");
        CliAssert.FailsWithOneLine(CliProcess.Run("generate", model, "--prompts", folder["dir.jsonl"], "--device", "cpu"),
                                   folder["dir.jsonl"], "is a folder");
        string bad = WriteBytes(folder["bad.jsonl"], Line("{\"text\": \"fine\"}"), Line("{\"text\": "));
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", bad, "--device", "cpu"), bad + ":2", "not valid JSON");
        string duplicate = WriteBytes(folder["duplicate.jsonl"], Line("{\"text\": \"a\", \"text\": \"b\"}"));
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", duplicate, "--device", "cpu"), duplicate + ":1", "Duplicate");
    }

    [Theory]
    [InlineData("5.5")]
    [InlineData("99999999999")]
    [InlineData("-1")]
    [InlineData("\"7\"")]
    [InlineData("null")]
    [InlineData("[3]")]
    [InlineData("1e2")]
    [InlineData("320")] // the tiny model's vocabulary is 0..319
    public void InputIdsThatAreNotTokenIdsNameFileLineAndValue(string value)
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = WriteBytes(folder["ids.jsonl"], Line("{\"input_ids\": [1, 5, 6]}"), Line($"{{\"input_ids\": [1, {value}, 6]}}"));
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", data, "--device", "cpu"), data + ":2", "input_ids[1]", value);
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--device", "cpu"),
                                   data + ":2", value);
    }

    [Fact]
    public void RowsThatScoreNothingAreSkippedAndCounted()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string data = WriteBytes(folder["mixed.jsonl"], Line("{\"input_ids\": [1]}"), Line("{\"input_ids\": [1, 5, 6]}"),
                                 Line("{\"input_ids\": [7]}"));
        var r = CliProcess.Ok("eval", model, "--data", data, "--device", "cpu");
        Assert.Contains("2 rows skipped: nothing to score", r.Stdout);
        Assert.Matches(@"scored tokens\s*│\s*2\s", r.Stdout);

        var tuned = CliProcess.Ok("finetune", model, "--train", data, "--validation", data, "--steps", "1", "--device", "cpu");
        // the console wraps long lines
        Assert.Contains($"{data}: 2 rows skipped: nothing to score", Regex.Replace(tuned.Stdout, @"\s*\n\s*", " "));
    }

    [Fact]
    public void NothingToScoreAtAllIsAnErrorNamingTheFile()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string lone = WriteBytes(folder["lone.jsonl"], Line("{\"input_ids\": [1]}"), Line("{\"input_ids\": [4]}"));
        string empty = WriteBytes(folder["empty-text.jsonl"], Line("{\"text\": \"\"}"));
        string good = TeacherData.Write(folder["good.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);

        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", lone, "--device", "cpu"), lone, "nothing to score");
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", empty, "--device", "cpu"), empty, "nothing to score");
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", good, "--max-length", "1", "--device", "cpu"),
                                   good, "nothing to score");
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", lone, "--steps", "1", "--device", "cpu"),
                                   lone, "nothing to score");
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", good, "--validation", empty, "--steps", "1",
                                                  "--device", "cpu"),
                                   empty, "nothing to score");
    }

    [Fact]
    public void TaskDataWithNothingToScoreIsAnErrorNamingTheRow()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        string[] common = ["--task", "sst2", "--data", TaskFixtures.Jsonl("sst2"), "--num-train", "16", "--num-dev", "4", "--num-eval", "4",
                           "--max-length", "1", "--device", "cpu"];
        string validation = Path.Combine(TaskFixtures.Jsonl("sst2"), "validation.jsonl");
        CliAssert.FailsWithOneLine(CliProcess.Run(["eval", model, "--run", folder["eval"], .. common]), validation, "nothing to score");
        CliAssert.FailsWithOneLine(CliProcess.Run(["finetune", model, "--run", folder["tune"], "--steps", "1", .. common]),
                                   "sst2", "nothing to score");
    }
}
