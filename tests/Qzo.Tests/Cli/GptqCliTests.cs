using System.Text.Json.Nodes;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Cli;

/// <summary>`qzo quantize --method gptq` and `qzo sample` as a user runs them.</summary>
public class GptqCliTests
{
    static string EnglishCalibration(TempFolder folder)
    {
        string[] lines =
        [
            "The morning train left the station at 7:45, exactly on time, and most of the passengers were still half asleep.",
            "She opened the window, looked at the grey sky, and decided that today would be a good day to stay inside and read.",
            "A small dog ran across the park, chasing a red ball that bounced higher than anyone expected.",
            "The committee met on Tuesday to discuss the budget; after three hours, they agreed to postpone the decision.",
        ];
        File.WriteAllLines(folder["calibration.jsonl"], lines.Select(l => new JsonObject { ["text"] = l }.ToJsonString()));
        return folder["calibration.jsonl"];
    }

    [Fact]
    public void SynthSampleQuantizeWithTextCalibrationAndEvaluate()
    {
        using var folder = new TempFolder();
        CliProcess.Ok("synth", "--out", folder["m"], "--hidden", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2",
                      "--intermediate", "96", "--vocab", "320", "--low-rank", "8", "--outliers", "4", "--max-positions", "128");
        CliProcess.Ok("sample", folder["m"], "--out", folder["test.jsonl"], "--count", "8", "--length", "24", "--seed", "3");
        var rows = File.ReadAllLines(folder["test.jsonl"]);
        Assert.Equal(8, rows.Length);
        Assert.All(rows, r => Assert.Equal(24, JsonNode.Parse(r)!["input_ids"]!.AsArray().Count));

        var r = CliProcess.Ok("quantize", "--method", "gptq", "--bits", "4", "--group-size", "32", "--desc-act",
                              "--calibration", EnglishCalibration(folder), "--calibration-samples", "6", "--calibration-length", "32",
                              "--report", folder["report.json"], "--device", "cpu", folder["m"], folder["q"]);
        Assert.Contains("calibration: 6 samples × 32 tokens", r.Stdout);
        Assert.Contains("on cpu", r.Stdout);
        Assert.Contains("act-order", r.Stdout);
        var report = JsonNode.Parse(File.ReadAllText(folder["report.json"]))!;
        Assert.Equal(14, report["linears"]!.AsArray().Count);
        Assert.True((double)report["mean_relative_error"]! < (double)report["mean_rtn_relative_error"]!, report.ToJsonString());
        using (var checkpoint = Checkpoint.Open(folder["q"]))
            Assert.Equal(new GptqConfig(4, 32, DescAct: true, Sym: true, GptqCheckpointFormat.Gptq, Quantizer: GptqConfig.QzoQuantizerTag),
                checkpoint.Gptq);
        Assert.Contains("mean loss", CliProcess.Ok("eval", folder["q"], "--data", folder["test.jsonl"]).Stdout);

        // rtn, nf4 and aqlm take the same form; there the calibration data measures each linear's output error.
        var rtn = CliProcess.Ok("quantize", "--method", "rtn", "--bits", "4", "--group-size", "32",
                                "--calibration", folder["calibration.jsonl"], "--calibration-samples", "6", "--calibration-length", "32",
                                "--report", folder["rtn.json"], folder["m"], folder["rtn"]);
        Assert.Contains("relative output error", rtn.Stdout);
        var rtnReport = JsonNode.Parse(File.ReadAllText(folder["rtn.json"]))!;
        Assert.Equal(14, rtnReport["linears"]!.AsArray().Count);
        Assert.InRange((double)rtnReport["mean_relative_error"]!, (double)report["mean_relative_error"]!, 1.0);
        var nf4 = CliProcess.Ok("quantize", "--method", "nf4", "--calibration", folder["calibration.jsonl"], "--calibration-length", "32",
                                folder["m"], folder["nf4"]);
        Assert.Contains("relative output error", nf4.Stdout);
    }

    [Fact]
    public void BadGptqInputIsOneLineAndLeavesNoOutput()
    {
        using var folder = new TempFolder();
        string model = Qzo.Tests.Models.TinyModels.Dense(folder);
        string calibration = EnglishCalibration(folder);
        File.WriteAllText(folder["empty.jsonl"], "");

        void Fails(string mustMention, params string[] args)
        {
            var r = CliProcess.Run(["quantize", .. args, model, folder["out"]]);
            Assert.True(r.ExitCode == 1, r.ToString());
            var lines = r.Stderr.Trim().Split('\n');
            Assert.True(lines.Length == 1, $"expected one line, got:\n{r.Stderr}");
            Assert.StartsWith("error: ", lines[0]);
            Assert.Contains(mustMention, lines[0]);
            Assert.False(Directory.Exists(folder["out"]), "an output folder was left behind");
            Assert.Empty(Directory.GetFileSystemEntries(folder.Path, "out.*"));
        }

        Fails("calibration file not found", "--method", "gptq", "--calibration", folder["missing.jsonl"]);
        Fails("the calibration file is empty", "--method", "gptq", "--calibration", folder["empty.jsonl"]);
        Fails("too short for one sample of --calibration-length 2000", "--method", "gptq", "--calibration", calibration,
              "--calibration-length", "2000");
        Fails("needs --calibration", "--method", "gptq");
        Fails("--desc-act applies to --method gptq only", "--method", "rtn", "--desc-act");
        Fails("--report needs --calibration", "--method", "aqlm", "--report", folder["r.json"]);
        Fails("--device must be cuda, cpu or auto", "--method", "gptq", "--calibration", calibration, "--device", "tpu");
        Fails("--device applies to --method gptq, and to the others with --calibration", "--method", "nf4", "--device", "cpu");
        if (!Qzo.Compute.Cuda.CudaBackend.IsCudaAvailable()) // the build machines: asking for a GPU stops before anything is written
            Fails("--device cuda: ", "--method", "gptq", "--calibration", calibration, "--device", "cuda");
        Fails("calibration file not found", "--method", "nf4", "--calibration", folder["missing.jsonl"]);
        Fails("--static-groups applies with --desc-act only", "--method", "gptq", "--calibration", calibration, "--static-groups");
        Fails("--damp must be between 0 and 1", "--method", "gptq", "--calibration", calibration, "--damp", "1.5");

        model = Qzo.Tests.Models.TinyModels.Dense(folder, ArchitectureRegistry.Llama, "odd", o => o with { Intermediate = 44 });
        Fails("'model.layers.0.mlp.down_proj.weight' is [64, 44], which 4-bit GPTQ cannot pack", "--method", "gptq",
              "--calibration", calibration);
    }
}
