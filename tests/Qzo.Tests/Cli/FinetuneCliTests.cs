using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Tests.Models;

namespace Qzo.Tests.Cli;

public class FinetuneCliTests
{
    [Fact]
    public void OneQzoStepExportsTheProjectedUpdateRecomputedFromTheLog()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder, bits: 4, groupSize: 32);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 8, length: 12, vocab: 320, seed: 1);
        // A learning rate large enough that some scales are pushed below 0 and must be projected to the floor.
        CliProcess.Ok("finetune", model, "--train", data, "--out", folder["tuned"], "--steps", "1", "--batch-size", "4",
                      "--lr", "0.05", "--eps", "0.001", "--clip", "0.5", "--seed", "77", "--metrics", folder["m.jsonl"]);

        var step = File.ReadLines(folder["m.jsonl"]).Select(l => JsonNode.Parse(l)!).Single(n => (string)n["type"]! == "step");
        ulong seed = (ulong)step["seed"]!;
        double d = (double)step["d"]!, dClipped = (double)step["d_clipped"]!, lr = (double)step["lr"]!;
        Assert.Equal(SplitMix64.StepSeed(77, 0), seed);
        Assert.Equal(Math.Clamp(d, -0.5, 0.5), dClipped);
        Assert.Equal(((double)step["loss_plus"]! - (double)step["loss_minus"]!) / (2 * 0.001f), d, 1e-9);
        Assert.True(Math.Abs(d) > 0.5, $"the test means to exercise clipping; d = {d}");

        using var before = CheckpointTensors.Open(model);
        using var after = CheckpointTensors.Open(folder["tuned"]);
        var scaleNames = before.Names.Where(n => n.EndsWith(".scales")).OrderBy(n => n, StringComparer.Ordinal).ToList();
        float stepSize = (float)(lr * dClipped);
        int floored = 0, changed = 0;
        for (int t = 0; t < scaleNames.Count; t++)
        {
            var original = before.ReadFloat32(scaleNames[t]);
            var exported = after.Get(scaleNames[t]).DType == DType.F16
                ? after.ReadFloat32(scaleNames[t])
                : throw new Exception("scales must stay F16");
            for (int i = 0; i < original.Length; i++)
            {
                // One rounding, as docs/algorithm.md §4 states.
                float updated = Math.Max((float)(original[i] - (double)stepSize * GaussianDirection.Z(seed, t, i)), 0f);
                Assert.Equal((float)(Half)updated, exported[i]);
                if (updated == 0f) floored++;
                if (exported[i] != original[i]) changed++;
            }
        }
        Assert.True(floored > 0, "no scale reached the floor; the projection was not exercised");
        Assert.True(changed > 0);
    }

    [Fact]
    public void ZeroStepsGiveAByteIdenticalCheckpointAndTrainingChangesOnlyScales()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder, bits: 3, groupSize: 32);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 8, length: 10, vocab: 320, seed: 2);
        CliProcess.Ok("finetune", model, "--train", data, "--out", folder["same"], "--steps", "0");
        foreach (var file in Directory.GetFiles(model))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(folder["same"], Path.GetFileName(file))));

        CliProcess.Ok("finetune", model, "--train", data, "--out", folder["tuned"], "--steps", "3", "--batch-size", "2", "--lr", "1e-3");
        foreach (var file in Directory.GetFiles(model).Where(f => !f.EndsWith(".safetensors")))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(folder["tuned"], Path.GetFileName(file))));
        using var a = SafetensorsFile.Open(Path.Combine(model, "model.safetensors"));
        using var b = SafetensorsFile.Open(Path.Combine(folder["tuned"], "model.safetensors"));
        Assert.Equal(a.HeaderJsonBytes.ToArray(), b.HeaderJsonBytes.ToArray());
        int scalesChanged = 0;
        foreach (var t in a.Tensors)
        {
            bool same = a.GetBytes(t.Name).SequenceEqual(b.GetBytes(t.Name));
            if (t.Name.EndsWith(".scales")) { if (!same) scalesChanged++; }
            else Assert.True(same, $"{t.Name} changed");
        }
        Assert.Equal(a.Tensors.Count(t => t.Name.EndsWith(".scales")), scalesChanged);
    }

    [Fact]
    public void MezoStepUpdatesEveryWeightOfAnUnquantizedCheckpoint()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Dense(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 4, length: 10, vocab: 320, seed: 3);
        CliProcess.Ok("finetune", model, "--method", "mezo", "--train", data, "--out", folder["tuned"], "--steps", "1",
                      "--batch-size", "4", "--lr", "1e-2", "--metrics", folder["m.jsonl"]);
        var step = File.ReadLines(folder["m.jsonl"]).Select(l => JsonNode.Parse(l)!).Single(n => (string)n["type"]! == "step");
        float stepSize = (float)((double)step["lr"]! * (double)step["d_clipped"]!);
        ulong seed = (ulong)step["seed"]!;
        using var before = CheckpointTensors.Open(model);
        using var after = CheckpointTensors.Open(folder["tuned"]);
        var names = before.Names.OrderBy(n => n, StringComparer.Ordinal).ToList();
        for (int t = 0; t < names.Count; t++)
        {
            var original = before.ReadFloat32(names[t]);
            var exported = after.ReadFloat32(names[t]);
            Assert.Equal(DType.BF16, after.Get(names[t]).DType);
            for (int i = 0; i < original.Length; i += 7)
                Assert.Equal(
                    BFloat16.ToSingle(BFloat16.FromSingle((float)(original[i] - (double)stepSize * GaussianDirection.Z(seed, t, i)))),
                    exported[i]);
        }
    }

    [Fact]
    public void QzoRefusesAnUnquantizedCheckpointAndMezoAQuantizedOne()
    {
        using var folder = new TempFolder();
        string dense = TinyModels.Dense(folder);
        string gptq = TinyModels.Gptq(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 4, length: 8, vocab: 320, seed: 4);
        var qzo = CliProcess.Run("finetune", dense, "--train", data, "--steps", "1");
        Assert.Equal(1, qzo.ExitCode);
        Assert.Contains("no quantized linear layers", qzo.Stderr);
        var mezo = CliProcess.Run("finetune", gptq, "--method", "mezo", "--train", data, "--steps", "1");
        Assert.Equal(1, mezo.ExitCode);
        Assert.Contains("GPTQ-quantized", mezo.Stderr);
    }
}
