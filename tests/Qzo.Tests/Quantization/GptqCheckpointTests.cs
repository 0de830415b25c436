using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Models.Architectures.Opt;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Qzo.Tasks;
using Qzo.Tests.Models;

namespace Qzo.Tests.Quantization;

/// <summary>GPTQ over whole checkpoints: the layer-by-layer runner, the written checkpoint, and the quality against RTN.</summary>
public class GptqCheckpointTests
{
    readonly CpuBackend _cpu = new();

    /// <summary>A small teacher with structure (low-rank weights and embeddings, outlier channels), as trained models have it.</summary>
    static string StructuredTeacher(TempFolder folder, IArchitecture? architecture = null)
    {
        architecture ??= ArchitectureRegistry.Llama;
        return TinyModels.Dense(folder, architecture, "teacher-" + architecture.ModelType,
            o => o with { Seed = 5, LowRank = 8, Outliers = 4 });
    }

    /// <summary>Sequences sampled from the model, written as input_ids rows.</summary>
    static string Samples(string model, string path, int count, int length, ulong seed)
    {
        using var backend = new CpuBackend();
        using var session = ModelSession.Open(model, backend, TrainingScope.None);
        var prompts = Enumerable.Range(0, count).Select(_ => new[] { session.Tokenizer.BosId ?? 1 }).ToList();
        var sequences = Sampling.Sample(session.Model, prompts, length - 1, temperature: 1, seed);
        File.WriteAllLines(path, sequences.Select(ids =>
            new JsonObject { ["input_ids"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()) }.ToJsonString()));
        return path;
    }

    static double HeldOutLoss(string model, string data)
    {
        using var backend = new CpuBackend();
        using var session = ModelSession.Open(model, backend, TrainingScope.None);
        return Evaluator.Evaluate(session.Model, JsonlDataset.Load(data, session.Tokenizer, 4096), 32, session.PadId).Loss!.Value;
    }

    [Fact]
    public void GptqBeatsRtnOnHeldOutLossAndPerLayerError()
    {
        using var folder = new TempFolder();
        string teacher = StructuredTeacher(folder);
        string calibration = Samples(teacher, folder["calibration.jsonl"], 32, 32, seed: 1);
        string test = Samples(teacher, folder["test.jsonl"], 64, 32, seed: 2);
        double teacherLoss = HeldOutLoss(teacher, test);

        foreach (var (bits, groupSize, descAct) in new[] { (3, 32, false), (2, -1, true) })
        {
            string name = $"{bits}-{groupSize}-{descAct}";
            var config = GptqConfig.Create(bits, groupSize, sym: true, GptqCheckpointFormat.Gptq, descAct: descAct);
            var report = CheckpointQuantizer.QuantizeGptq(teacher, folder["gptq-" + name], config,
                                                          new CalibrationOptions(calibration, Length: 32), _cpu);
            CheckpointQuantizer.QuantizeRtn(teacher, folder["rtn-" + name],
                GptqConfig.Create(bits, groupSize, sym: true, GptqCheckpointFormat.Gptq));
            double gptq = HeldOutLoss(folder["gptq-" + name], test), rtn = HeldOutLoss(folder["rtn-" + name], test);

            Assert.Equal((32, 32), (report.Samples, report.Length));
            Assert.Equal(2 * 7, report.Linears.Count);
            // Each layer's wall time, which includes its linears' solves.
            Assert.Equal(2, report.LayerSeconds.Count);
            for (int l = 0; l < 2; l++)
                Assert.True(report.LayerSeconds[l] >= report.Linears.Where(x => x.Layer == l).Sum(x => x.Seconds),
                    $"layer {l}: {report.LayerSeconds[l]} s in all, less than its linears' solves");
            Assert.Equal(2, report.ToJson()["layer_seconds"]!.AsArray().Count);
            foreach (var layer in report.Linears.GroupBy(l => l.Layer))
                Assert.True(layer.Average(l => l.RelativeError) < 0.7 * layer.Average(l => l.RtnRelativeError),
                    $"{name}, layer {layer.Key}: GPTQ {layer.Average(l => l.RelativeError):G3} " +
                    $"vs RTN {layer.Average(l => l.RtnRelativeError):G3}");
            // Quantization costs something; GPTQ must give back at least a quarter of what RTN loses.
            Assert.True(teacherLoss < rtn && gptq - teacherLoss < 0.75 * (rtn - teacherLoss),
                $"{name}: held-out loss teacher {teacherLoss:F4}, GPTQ {gptq:F4}, RTN {rtn:F4}");
        }
    }

    [Fact]
    public void WrittenCheckpointHasTheGptqLayoutLoadsAndIsDeterministic()
    {
        using var folder = new TempFolder();
        string dense = TinyModels.Dense(folder);
        string calibration = Samples(dense, folder["calibration.jsonl"], 8, 24, seed: 3);
        var config = GptqConfig.Create(4, 16, sym: false, GptqCheckpointFormat.GptqV2, descAct: true, dampPercent: 0.05);
        // A shard limit below one layer's size: the output is written in several shards as layers finish.
        CheckpointQuantizer.QuantizeGptq(dense, folder["q"], config, new CalibrationOptions(calibration), _cpu, maxShardBytes: 40_000);
        CheckpointQuantizer.QuantizeGptq(dense, folder["again"], config, new CalibrationOptions(calibration), _cpu, maxShardBytes: 40_000);

        Assert.True(File.Exists(Path.Combine(folder["q"], "model.safetensors.index.json")));
        var shards = Directory.GetFiles(folder["q"], "*.safetensors").Order().ToArray();
        Assert.True(shards.Length > 2, $"{shards.Length} shards");
        foreach (var shard in shards) // same inputs, same bytes
            Assert.Equal(File.ReadAllBytes(shard), File.ReadAllBytes(Path.Combine(folder["again"], Path.GetFileName(shard))));

        using (var source = Qzo.IO.CheckpointTensors.Open(dense))
        using (var quantized = Checkpoint.Open(folder["q"]))
        {
            Assert.Equal(config with { Quantizer = GptqConfig.QzoQuantizerTag }, quantized.Gptq);
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder["q"], "config.json")))!["quantization_config"]!;
            Assert.Equal(("gptq", true, 0.05, true, "gptq_v2"),
                         ((string)json["quant_method"]!, (bool)json["desc_act"]!, (double)json["damp_percent"]!,
                          (bool)json["true_sequential"]!, (string)json["checkpoint_format"]!));
            foreach (var name in source.Names)
            {
                if (!CheckpointQuantizer.IsQuantizable(name))
                {
                    Assert.Equal(source.FileOf(name).GetBytes(name).ToArray(), quantized.Tensors.FileOf(name).GetBytes(name).ToArray());
                    continue;
                }
                string p = name[..^".weight".Length];
                int outF = (int)source.Get(name).Shape[0], inF = (int)source.Get(name).Shape[1];
                Assert.False(quantized.Tensors.Contains(name));
                var gIdx = quantized.Tensors.ReadInt32(p + ".g_idx");
                // Act-order groups are runs of 16 inputs in Hessian order: every group has 16 members, not in input order.
                Assert.All(gIdx.GroupBy(g => g), g => Assert.Equal(16, g.Count()));
                Assert.NotEqual(GptqPacking.DefaultGIdx(inF, 16), gIdx);
                var w = GptqReference.Dequantize(quantized.Tensors.ReadInt32(p + ".qweight"), quantized.Tensors.ReadInt32(p + ".qzeros"),
                    quantized.Tensors.ReadFloat32(p + ".scales"), gIdx, inF, outF, 4, GptqCheckpointFormat.GptqV2);
                var original = source.ReadFloat32(name);
                double error = 0, norm = 0;
                for (int i = 0; i < w.Length; i++) { error += Math.Pow(w[i] - original[i], 2); norm += Math.Pow(original[i], 2); }
                Assert.True(error < 0.05 * norm, $"{name}: ‖W − Ŵ‖² / ‖W‖² = {error / norm:G3}");
            }
        }
        using var backend = new CpuBackend();
        using var session = ModelSession.Open(folder["q"], backend, TrainingScope.QuantizationScales);
        Assert.Equal(14, session.Model.AllLinears.OfType<GptqLinear>().Count());
        Assert.Empty(session.Model.UnusedTensors);
        double loss = Evaluator.Evaluate(session.Model, JsonlDataset.Load(calibration, session.Tokenizer, 4096), 8, session.PadId)
            .Loss!.Value;
        Assert.True(double.IsFinite(loss) && loss < HeldOutLoss(dense, calibration) + 0.5, $"loss {loss}");
    }

    /// <summary>
    /// true_sequential: o_proj's Hessian comes from inputs through the already-quantized q/k/v, so its codes differ from a
    /// run that collects every Hessian on the unquantized layer; q/k/v, first in both, see the same inputs and agree.
    /// </summary>
    [Fact]
    public void TrueSequentialFeedsLaterSublayersThroughTheQuantizedEarlierOnes()
    {
        using var folder = new TempFolder();
        string dense = TinyModels.Dense(folder);
        string calibration = Samples(dense, folder["calibration.jsonl"], 8, 24, seed: 6);
        foreach (bool sequential in new[] { true, false })
            CheckpointQuantizer.QuantizeGptq(dense, folder[$"q-{sequential}"],
                GptqConfig.Create(2, 16, sym: true, GptqCheckpointFormat.Gptq, trueSequential: sequential),
                new CalibrationOptions(calibration), _cpu);
        using var a = Checkpoint.Open(folder["q-True"]);
        using var b = Checkpoint.Open(folder["q-False"]);
        Assert.False(b.Gptq!.TrueSequential);
        const string layer = "model.layers.0.";
        foreach (var first in new[] { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj" })
            Assert.Equal(a.Tensors.ReadInt32(layer + first + ".qweight"), b.Tensors.ReadInt32(layer + first + ".qweight"));
        foreach (var later in new[] { "self_attn.o_proj", "mlp.gate_proj", "mlp.down_proj" })
            Assert.NotEqual(a.Tensors.ReadInt32(layer + later + ".qweight"), b.Tensors.ReadInt32(layer + later + ".qweight"));
    }

    /// <summary>
    /// Layer by layer: layer 1 is quantized on the calibration states that come out of the *quantized* layer 0. Rebuild
    /// that by hand (the dense model with layer 0's weights replaced by the written checkpoint's dequantized ones, run
    /// through layer 0, layer 1's q_proj input collected, GPTQ on it) and it must give the checkpoint's codes exactly.
    /// </summary>
    [Fact]
    public void LaterLayersAreQuantizedOnTheOutputsOfTheQuantizedEarlierOnes()
    {
        using var folder = new TempFolder();
        string dense = TinyModels.Dense(folder);
        string calibration = Samples(dense, folder["calibration.jsonl"], 8, 24, seed: 8);
        var config = GptqConfig.Create(3, 32, sym: true, GptqCheckpointFormat.Gptq);
        var options = new CalibrationOptions(calibration, Samples: 8, Length: 24);
        CheckpointQuantizer.QuantizeGptq(dense, folder["q"], config, options, _cpu);

        // The dense checkpoint with layer 0 as the quantized checkpoint holds it (float32, exactly the dequantized values).
        string rebuilt = folder["rebuilt"];
        Directory.CreateDirectory(rebuilt);
        foreach (var file in Directory.GetFiles(dense).Where(f => !f.EndsWith(".safetensors")))
            File.Copy(file, Path.Combine(rebuilt, Path.GetFileName(file)));
        using (var source = Qzo.IO.CheckpointTensors.Open(dense))
        using (var quantized = Qzo.IO.CheckpointTensors.Open(folder["q"]))
        {
            var tensors = source.Names.Select(name =>
            {
                var info = source.Get(name);
                if (!name.StartsWith("model.layers.0.") || !CheckpointQuantizer.IsQuantizable(name))
                    return new Qzo.IO.TensorToWrite(name, info.DType, info.Shape, source.FileOf(name).GetBytes(name).ToArray());
                string p = name[..^".weight".Length];
                int outF = (int)info.Shape[0], inF = (int)info.Shape[1];
                var w = GptqReference.Dequantize(quantized.ReadInt32(p + ".qweight"), quantized.ReadInt32(p + ".qzeros"),
                                                 quantized.ReadFloat32(p + ".scales"), quantized.ReadInt32(p + ".g_idx"), inF, outF, 3,
                                                 GptqCheckpointFormat.Gptq);
                return new Qzo.IO.TensorToWrite(name, Qzo.Numerics.DType.F32, info.Shape,
                    Qzo.Numerics.DTypes.FromSingle(Qzo.Numerics.DType.F32, w));
            }).ToList();
            Qzo.IO.SafetensorsWriter.Write(Path.Combine(rebuilt, "model.safetensors"), tensors);
        }

        using var backend = new CpuBackend();
        using var checkpoint = Checkpoint.Open(rebuilt);
        var windows = CalibrationSet.Load(calibration, Qzo.Text.Tokenizer.Load(rebuilt), 8, 24, seed: 0).Windows;
        using var decoder = LayerwiseDecoder.Open(checkpoint, backend, maxRows: 8 * 24, maxSeq: 24);
        var hidden = decoder.Embed(windows);
        using (var layer0 = decoder.OpenLayer(0)) layer0.Forward(hidden, 8, 24);
        using var layer1 = decoder.OpenLayer(1);
        var q = layer1.SequentialGroups[0][0];
        using var hessian = new HessianAccumulator(backend, q.InFeatures);
        layer1.Observe(hidden, 8, 24, new Dictionary<string, LinearInputObserver> { [q.Name] = (x, rows) => hessian.Add(x, rows) });
        var solution = GptqQuantizer.Quantize(layer1.Weight(q), q.OutFeatures, q.InFeatures, hessian.Download(), GptqSettings.From(config));

        using var written = Qzo.IO.CheckpointTensors.Open(folder["q"]);
        Assert.Equal(solution.Pack(config.Format).QWeight, written.ReadInt32("model.layers.1.self_attn.q_proj.qweight"));
        Assert.Equal(solution.Scales.Select(s => (float)s), written.ReadFloat32("model.layers.1.self_attn.q_proj.scales"));
    }

    public static TheoryData<string> OtherArchitectures() => new() { "mistral", "qwen2", "opt" };

    /// <summary>
    /// Every architecture: each decoder-layer linear becomes GPTQ, the result loads, and GPTQ's per-layer error beats RTN's.
    /// </summary>
    [Theory]
    [MemberData(nameof(OtherArchitectures))]
    public void OtherArchitecturesQuantizeLayerByLayer(string modelType)
    {
        var architecture = ArchitectureRegistry.Get(modelType);
        using var folder = new TempFolder();
        string teacher = StructuredTeacher(folder, architecture);
        string calibration = Samples(teacher, folder["calibration.jsonl"], 8, 32, seed: 4);
        var report = CheckpointQuantizer.QuantizeGptq(teacher, folder["q"],
                                                      GptqConfig.Create(4, 32, sym: true, GptqCheckpointFormat.Gptq, descAct: true),
                                                      new CalibrationOptions(calibration), _cpu);
        int perLayer = architecture == ArchitectureRegistry.Opt ? 6 : 7;
        Assert.Equal(2 * perLayer, report.Linears.Count);
        Assert.True(report.Linears.Average(l => l.RelativeError) < report.Linears.Average(l => l.RtnRelativeError));
        using var backend = new CpuBackend();
        using var session = ModelSession.Open(folder["q"], backend, TrainingScope.None);
        Assert.Equal(2 * perLayer, session.Model.AllLinears.OfType<GptqLinear>().Count());
        Assert.True(double.IsFinite(
            Evaluator.Evaluate(session.Model, JsonlDataset.Load(calibration, session.Tokenizer, 4096), 8, session.PadId).Loss!.Value));
    }

    public static TheoryData<string> RunnerArchitectures() => new() { "llama", "opt" };

    /// <summary>
    /// The layer-by-layer runner is the model's forward pass: embeddings (OPT: project_in and learned positions), every
    /// layer, then the final norm and lm_head done here on the host, give the model's own logits.
    /// </summary>
    [Theory]
    [MemberData(nameof(RunnerArchitectures))]
    public void LayerByLayerRunnerReproducesTheModelsLogits(string modelType)
    {
        var architecture = ArchitectureRegistry.Get(modelType);
        using var folder = new TempFolder();
        string model = architecture == ArchitectureRegistry.Llama
            ? TinyModels.Dense(folder)
            : TinyModels.Dense(folder, architecture, "opt");
        var windows = new[] { TinyModels.RandomIds(12, 320, 1), TinyModels.RandomIds(12, 320, 2) };

        using var backend = new CpuBackend();
        using var checkpoint = Checkpoint.Open(model);
        var hidden = new float[24 * 64];
        using (var decoder = LayerwiseDecoder.Open(checkpoint, backend, maxRows: 12, maxSeq: 12))
        {
            // one sequence at a time, each window's states on the backend
            var states = windows.Select(w => decoder.Embed([w])).ToArray();
            for (int l = 0; l < decoder.LayerCount; l++)
            {
                using var layer = decoder.OpenLayer(l);
                foreach (var window in states) layer.Forward(window, 1, 12);
            }
            for (int w = 0; w < windows.Length; w++)
            {
                backend.Download<float>(states[w], hidden.AsSpan(w * 12 * 64, 12 * 64));
                states[w].Dispose();
            }
        }

        using var session = ModelSession.Open(model, backend, TrainingScope.None);
        var batch = TokenBatch.Pad(windows.Select(w => (w, new bool[w.Length])).ToList(), padId: 0);
        var positions = Enumerable.Range(0, 24).ToArray();
        var expected = session.Model.Logits(batch, positions);
        var logits = HostHead(checkpoint, hidden, 24);
        for (int r = 0; r < 24; r++)
            for (int v = 0; v < 320; v++)
                Assert.True(Math.Abs(expected[r][v] - logits[r * 320 + v]) <= 1e-3f * (1 + Math.Abs(expected[r][v])),
                    $"row {r}, token {v}: {logits[r * 320 + v]} vs {expected[r][v]}");
    }

    /// <summary>Final norm, (OPT) project_out and lm_head, in plain float math.</summary>
    static float[] HostHead(Checkpoint checkpoint, float[] hidden, int rows)
    {
        var t = checkpoint.Tensors;
        const int h = 64;
        var normed = new float[rows * h];
        float[] head;
        int width = h;
        if (checkpoint.Config is LlamaConfig llama)
        {
            var weight = t.ReadFloat32("model.norm.weight");
            for (int r = 0; r < rows; r++)
            {
                double ms = 0;
                for (int j = 0; j < h; j++) ms += hidden[r * h + j] * hidden[r * h + j];
                float inv = 1 / MathF.Sqrt((float)(ms / h) + llama.RmsNormEps);
                for (int j = 0; j < h; j++) normed[r * h + j] = hidden[r * h + j] * inv * weight[j];
            }
            head = t.ReadFloat32(llama.TieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight");
        }
        else
        {
            var opt = (OptConfig)checkpoint.Config;
            var (weight, bias) =
                (t.ReadFloat32("model.decoder.final_layer_norm.weight"), t.ReadFloat32("model.decoder.final_layer_norm.bias"));
            for (int r = 0; r < rows; r++)
            {
                double mean = 0, variance = 0;
                for (int j = 0; j < h; j++) mean += hidden[r * h + j] / (double)h;
                for (int j = 0; j < h; j++) variance += Math.Pow(hidden[r * h + j] - mean, 2) / h;
                for (int j = 0; j < h; j++)
                    normed[r * h + j] = (float)((hidden[r * h + j] - mean) / Math.Sqrt(variance + OptConfig.LayerNormEps)) * weight[j]
                        + bias[j];
            }
            width = opt.WordEmbedProjDim;
            var projected = new float[rows * width];
            Sgemm.Reference(normed, t.ReadFloat32("model.decoder.project_out.weight"), projected, rows, width, h, transposedB: true);
            normed = projected;
            head = t.ReadFloat32("model.decoder.embed_tokens.weight");
        }
        int vocab = checkpoint.Config.VocabSize;
        var logits = new float[rows * vocab];
        Sgemm.Reference(normed, head, logits, rows, vocab, width, transposedB: true);
        return logits;
    }
}
