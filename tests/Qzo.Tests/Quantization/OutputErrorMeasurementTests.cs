using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Gptq;
using Qzo.Tests.Models;

namespace Qzo.Tests.Quantization;

/// <summary>The layer output error of any quantized checkpoint, measured as GPTQ measures its own.</summary>
public class OutputErrorMeasurementTests
{
    readonly CpuBackend _cpu = new();

    static (string Teacher, string Calibration) TeacherAndData(TempFolder folder)
    {
        string teacher = TinyModels.Dense(folder, ArchitectureRegistry.Llama, "teacher",
            o => o with { Seed = 5, LowRank = 8, Outliers = 4 });
        using var backend = new CpuBackend();
        using var session = ModelSession.Open(teacher, backend, TrainingScope.None);
        var prompts = Enumerable.Range(0, 8).Select(_ => new[] { session.Tokenizer.BosId ?? 1 }).ToList();
        var sequences = Sampling.Sample(session.Model, prompts, 23, temperature: 1, seed: 3);
        File.WriteAllLines(folder["calibration.jsonl"], sequences.Select(ids =>
            new JsonObject { ["input_ids"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()) }.ToJsonString()));
        return (teacher, folder["calibration.jsonl"]);
    }

    /// <summary>
    /// On a GPTQ checkpoint the measurement sees the inputs GPTQ saw and the weights it chose: it repeats GPTQ's own report.
    /// </summary>
    [Fact]
    public void RepeatsGptqsOwnReportOnAGptqCheckpoint()
    {
        using var folder = new TempFolder();
        var (teacher, calibration) = TeacherAndData(folder);
        var options = new CalibrationOptions(calibration, Length: 24);
        var gptq = CheckpointQuantizer.QuantizeGptq(teacher, folder["q"],
                                                    GptqConfig.Create(3, 32, sym: true, GptqCheckpointFormat.Gptq, descAct: true),
                                                    options, _cpu);
        var measured = OutputErrorMeasurement.Measure(teacher, folder["q"], options, _cpu, _cpu);

        Assert.Equal(gptq.Linears.Select(l => l.Name), measured.Linears.Select(l => l.Name));
        foreach (var (own, outside) in gptq.Linears.Zip(measured.Linears))
            Assert.True(Math.Abs(own.RelativeError - outside.RelativeError) <= 1e-9 * own.RelativeError,
                $"{own.Name}: GPTQ {own.RelativeError}, measured {outside.RelativeError}");
        Assert.All(measured.Linears, l => Assert.InRange(l.RelativeError, 0.01, 0.5));
    }

    [Fact]
    public void AnUnquantizedCopyHasNoErrorAndOtherFormatsAreMeasured()
    {
        using var folder = new TempFolder();
        var (teacher, calibration) = TeacherAndData(folder);
        var options = new CalibrationOptions(calibration, Length: 24);
        Assert.All(OutputErrorMeasurement.Measure(teacher, teacher, options, _cpu, _cpu).Linears, l => Assert.Equal(0, l.RelativeError));

        // 2x4 (1 bit per weight): 2x8's 256 codewords would hold each of a 32×64 linear's 256 vectors exactly.
        CheckpointQuantizer.Quantize(teacher, folder["aqlm"], new AqlmCheckpointFormat(AqlmScheme.Parse("2x4")));
        CheckpointQuantizer.Quantize(teacher, folder["nf4"], new Bnb4BitCheckpointFormat(FourBitType.Nf4, 64));
        var aqlm = OutputErrorMeasurement.Measure(teacher, folder["aqlm"], options, _cpu, _cpu);
        var nf4 = OutputErrorMeasurement.Measure(teacher, folder["nf4"], options, _cpu, _cpu);
        Assert.Equal(14, aqlm.Linears.Count);
        Assert.All(aqlm.Linears.Concat(nf4.Linears), l => Assert.InRange(l.RelativeError, 0.01, 0.8));
        Assert.True(nf4.MeanRelativeError < aqlm.MeanRelativeError,
            $"4-bit NF4 {nf4.MeanRelativeError:G3} vs 1-bit AQLM {aqlm.MeanRelativeError:G3}");

        var report = OutputErrorMeasurement.Measure(teacher, folder["aqlm"], options, _cpu, _cpu).ToJson();
        Assert.Equal(aqlm.MeanRelativeError, (double)report["mean_relative_error"]!);
        Assert.Throws<QzoException>(() => OutputErrorMeasurement.Measure(folder["aqlm"], teacher, options, _cpu, _cpu));
    }
}
