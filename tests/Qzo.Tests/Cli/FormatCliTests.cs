using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;
using Qzo.Tests.Models;

namespace Qzo.Tests.Cli;

/// <summary>
/// `qzo quantize --method nf4|aqlm`, `qzo inspect` and `qzo finetune` on bitsandbytes 4-bit and AQLM checkpoints, end to end.
/// </summary>
public class FormatCliTests
{
    [Fact]
    public void QuantizeNf4WritesBitsandbytesTensorsConfigAndErrors()
    {
        using var folder = new TempFolder();
        string dense = TinyModels.Dense(folder);
        var run = Words(CliProcess.Ok("quantize", dense, folder["q"], "--method", "nf4", "--double-quant").Stdout);
        Assert.Contains("bitsandbytes nf4, block 64, double quant", run);
        Assert.Contains("relative reconstruction error", run);

        using var q = Checkpoint.Open(folder["q"]);
        var config = Assert.IsType<BitsAndBytesConfig>(q.Quantization);
        Assert.Equal((FourBitType.Nf4, true, "bfloat16"), (config.QuantType, config.DoubleQuant, config.ComputeDType));
        Assert.Equal(["lm_head"], config.SkipModules);
        string p = "model.layers.1.mlp.down_proj"; // [64, 96]: 6144 values in 96 blocks of 64, one nested block
        Assert.False(q.Tensors.Contains(p + ".qweight"));
        Expect(q, p + ".weight", DType.U8, [3072, 1]);
        Expect(q, p + ".weight.absmax", DType.U8, [96]);
        Expect(q, p + ".weight.quant_map", DType.F32, [16]);
        Expect(q, p + ".weight.nested_absmax", DType.F32, [1]);
        Expect(q, p + ".weight.nested_quant_map", DType.F32, [256]);
        string stateName = p + ".weight.quant_state.bitsandbytes__nf4";
        var state = Bnb4BitQuantState.Parse(q.Tensors.FileOf(stateName).GetBytes(stateName), stateName);
        Assert.Equal([64L, 96], state.Shape);
        Assert.Equal((64, 256, "bfloat16"), (state.BlockSize, state.NestedBlockSize!.Value, state.DType));
        Assert.Equal(DynamicMap.Signed(), q.Tensors.ReadFloat32(p + ".weight.nested_quant_map"));

        var inspect = CliProcess.Ok("inspect", folder["q"], "--dequantize", folder["dump.safetensors"]).Stdout;
        Assert.Contains("bitsandbytes nf4", inspect);
        Assert.Contains("double quant", inspect);
        Assert.Contains("scales (what QZO trains)", inspect);
        AssertDumpMatchesTheReference(q, folder["dump.safetensors"]);
    }

    [Fact]
    public void QuantizeAqlmWritesTheAqlmLayoutAndListsEveryUnquantizedWeight()
    {
        using var folder = new TempFolder();
        string dense = TinyModels.Dense(folder);
        CliProcess.Ok("quantize", dense, folder["q"], "--method", "aqlm", "--scheme", "2x8", "--rounds", "1");
        using var q = Checkpoint.Open(folder["q"]);
        var config = Assert.IsType<AqlmConfig>(q.Quantization);
        Assert.Equal(new AqlmScheme(2, 8, 8, 1), config.Scheme);
        foreach (var name in new[]
                 { "lm_head.weight", "model.embed_tokens.weight", "model.norm.weight", "model.layers.0.input_layernorm.weight" })
            Assert.Contains(name, config.LinearWeightsNotToQuantize);
        Assert.DoesNotContain("model.layers.0.self_attn.q_proj.weight", config.LinearWeightsNotToQuantize);
        string p = "model.layers.0.mlp.gate_proj"; // [96, 64]
        Expect(q, p + ".codes", DType.I8, [96, 8, 2]);
        Expect(q, p + ".codebooks", DType.F16, [2, 256, 1, 8]);
        Expect(q, p + ".scales", DType.F16, [96, 1, 1, 1]);

        var inspect = CliProcess.Ok("inspect", folder["q"], "--dequantize", folder["dump.safetensors"]).Stdout;
        Assert.Contains("AQLM 2x8", inspect);
        Assert.Contains("aqlm", inspect);
        AssertDumpMatchesTheReference(q, folder["dump.safetensors"]);
    }

    [Fact]
    public void InspectNamesADenseCheckpoint()
    {
        using var folder = new TempFolder();
        var text = CliProcess.Ok("inspect", TinyModels.Dense(folder)).Stdout;
        Assert.Contains("dense", text);
        Assert.DoesNotContain("scales (what QZO trains)", text);
    }

    /// <summary>The text with line wrapping undone (the console wraps long lines when output is redirected).</summary>
    static string Words(string text) => string.Join(' ', text.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));

    static void Expect(Checkpoint c, string name, DType dtype, long[] shape)
    {
        var info = c.Tensors.Get(name);
        Assert.Equal(dtype, info.DType);
        Assert.Equal(shape, info.Shape);
    }

    /// <summary>Every quantized linear of the dump equals the format's plain reference (the dump is fp32, so exactly).</summary>
    static void AssertDumpMatchesTheReference(Checkpoint q, string dumpPath)
    {
        using var dump = SafetensorsFile.Open(dumpPath);
        var reference = new ReferenceWeights(q, null);
        Assert.Equal(14, dump.Tensors.Count);
        foreach (var t in dump.Tensors)
            Assert.Equal(reference[t.Name].Select(v => (float)v).ToArray(), dump.ReadFloat32(t.Name));
    }

    /// <summary>
    /// The masters after one logged step: max(m − η·d'·z(seed, t, i), 0), trainable tensors numbered in ordinal name order.
    /// </summary>
    static Dictionary<string, float[]> TunedMasters(string metrics, IReadOnlyList<(string Name, float[] Start)> masters)
    {
        var step = File.ReadLines(metrics).Select(l => JsonNode.Parse(l)!).Single(n => (string)n["type"]! == "step");
        ulong seed = (ulong)step["seed"]!;
        float size = (float)((double)step["lr"]! * (double)step["d_clipped"]!);
        var ordered = masters.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
        return ordered
            .Select((m, t) => (m.Name,
                m.Start.Select((v, i) => MathF.Max(GaussianDirection.Step(v, -size, GaussianDirection.Z(seed, t, i)), 0f)).ToArray()))
            .ToDictionary(x => x.Name, x => x.Item2);
    }

    const string Lr = "0.05", Clip = "0.5";

    [Fact]
    public void OneStepOnFp32AbsmaxExportsTheUpdateExactly()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Bnb4Bit(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 8, length: 12, vocab: 320, seed: 1);
        CliProcess.Ok("finetune", model, "--train", data, "--out", folder["tuned"], "--steps", "1", "--batch-size", "4",
                      "--lr", Lr, "--clip", Clip, "--seed", "5", "--metrics", folder["m.jsonl"]);
        using var before = CheckpointTensors.Open(model);
        using var after = CheckpointTensors.Open(folder["tuned"]);
        var names = before.Names.Where(n => n.EndsWith(".weight.absmax", StringComparison.Ordinal)).ToList();
        Assert.Equal(14, names.Count);
        var tuned = TunedMasters(folder["m.jsonl"], names.Select(n => (n, before.ReadFloat32(n))).ToList());
        int changed = 0;
        foreach (var name in names)
        {
            Assert.Equal(DType.F32, after.Get(name).DType);
            Assert.Equal(tuned[name], after.ReadFloat32(name));
            changed += tuned[name].Zip(before.ReadFloat32(name)).Count(x => x.First != x.Second);
        }
        Assert.True(changed > 0);
        AssertOnlyTheseTensorsChanged(model, folder["tuned"], n => n.EndsWith(".weight.absmax", StringComparison.Ordinal));
    }

    [Fact]
    public void OneStepOnADoubleQuantizedAbsmaxIsReencodedIntoItsEightBitForm()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Bnb4Bit(folder, doubleQuant: true);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 8, length: 12, vocab: 320, seed: 2);
        var run = CliProcess.Ok("finetune", model, "--train", data, "--out", folder["tuned"], "--steps", "1", "--batch-size", "4",
                                "--lr", Lr, "--clip", Clip, "--seed", "6", "--metrics", folder["m.jsonl"]);
        Assert.Contains("cannot hold the tuned scales exactly", Words(run.Stdout));

        using var before = Checkpoint.Open(model);
        using var after = CheckpointTensors.Open(folder["tuned"]);
        var prefixes = before.Tensors.Names.Where(n => n.EndsWith(".weight.absmax", StringComparison.Ordinal))
            .Select(n => n[..^".weight.absmax".Length]).ToList();
        NestedAbsmax Nested(string p, CheckpointTensors t) => new(t.FileOf(p + ".weight.absmax").GetBytes(p + ".weight.absmax").ToArray(),
            t.ReadFloat32(p + ".weight.nested_absmax"), t.ReadFloat32(p + ".weight.nested_quant_map"), 256,
            Bnb4BitQuantState.Parse(
                t.FileOf(p + ".weight.quant_state.bitsandbytes__nf4").GetBytes(p + ".weight.quant_state.bitsandbytes__nf4"), p)
                .NestedOffset!.Value);
        var tuned = TunedMasters(folder["m.jsonl"],
            prefixes.Select(p => (p + ".weight.absmax", Nested(p, before.Tensors).Decode())).ToList());
        int codesChanged = 0;
        foreach (var p in prefixes)
        {
            var original = Nested(p, before.Tensors);
            var expected = original.Reencode(original.Decode(), tuned[p + ".weight.absmax"]);
            var exported = Nested(p, after);
            Assert.Equal(expected.Codes, exported.Codes);
            Assert.Equal(expected.Absmax, exported.Absmax);
            codesChanged += expected.Codes.Zip(original.Codes).Count(x => x.First != x.Second);
        }
        Assert.True(codesChanged > 0, "no absmax moved by half a grid step; the re-encoding was not exercised");
        AssertOnlyTheseTensorsChanged(model, folder["tuned"],
            n => n.EndsWith(".weight.absmax", StringComparison.Ordinal) || n.EndsWith(".weight.nested_absmax", StringComparison.Ordinal));
    }

    [Fact]
    public void OneStepOnAqlmChangesOnlyTheScales()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Aqlm(folder);
        string data = TeacherData.Write(folder["train.jsonl"], rows: 8, length: 12, vocab: 320, seed: 3);
        CliProcess.Ok("finetune", model, "--train", data, "--out", folder["tuned"], "--steps", "1", "--batch-size", "4",
                      "--lr", "1e-3", "--seed", "7", "--metrics", folder["m.jsonl"]);
        using var before = CheckpointTensors.Open(model);
        using var after = CheckpointTensors.Open(folder["tuned"]);
        var names = before.Names.Where(n => n.EndsWith(".scales", StringComparison.Ordinal)).ToList();
        var tuned = TunedMasters(folder["m.jsonl"], names.Select(n => (n, before.ReadFloat32(n))).ToList());
        foreach (var name in names)
        {
            Assert.Equal(DType.F16, after.Get(name).DType);
            Assert.Equal(tuned[name].Select(v => (float)(Half)v).ToArray(), after.ReadFloat32(name));
        }
        AssertOnlyTheseTensorsChanged(model, folder["tuned"], n => n.EndsWith(".scales", StringComparison.Ordinal));
    }

    [Fact]
    public void ZeroStepsGiveByteIdenticalCheckpointsAndMezoRefusesThem()
    {
        using var folder = new TempFolder();
        string data = TeacherData.Write(folder["train.jsonl"], rows: 4, length: 8, vocab: 320, seed: 4);
        foreach (var model in new[] { TinyModels.Bnb4Bit(folder, doubleQuant: true), TinyModels.Aqlm(folder) })
        {
            string output = model + "-same";
            CliProcess.Ok("finetune", model, "--train", data, "--out", output, "--steps", "0");
            foreach (var file in Directory.GetFiles(model))
                Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(output, Path.GetFileName(file))));
        }
        var mezo = CliProcess.Run("finetune", TinyModels.Bnb4Bit(folder, doubleQuant: true, name: "-mezo"), "--method", "mezo",
            "--train", data, "--steps", "1");
        Assert.Equal(1, mezo.ExitCode);
        Assert.Contains("bitsandbytes nf4-quantized", mezo.Stderr);
    }

    static void AssertOnlyTheseTensorsChanged(string model, string tuned, Func<string, bool> mayChange)
    {
        using var a = SafetensorsFile.Open(Path.Combine(model, "model.safetensors"));
        using var b = SafetensorsFile.Open(Path.Combine(tuned, "model.safetensors"));
        Assert.Equal(a.HeaderJsonBytes.ToArray(), b.HeaderJsonBytes.ToArray());
        foreach (var t in a.Tensors)
            if (!mayChange(t.Name)) Assert.True(a.GetBytes(t.Name).SequenceEqual(b.GetBytes(t.Name)), $"{t.Name} changed");
        foreach (var file in Directory.GetFiles(model).Where(f => !f.EndsWith(".safetensors")))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(tuned, Path.GetFileName(file))));
    }
}
