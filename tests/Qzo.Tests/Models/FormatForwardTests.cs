using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Models;

/// <summary>
/// Models loaded from bitsandbytes 4-bit and AQLM checkpoints (fp32 CPU backend) against <see cref="ReferenceLlama"/>,
/// whose weights come from the formats' plain references: unperturbed, under a QZO perturbation of the trainable
/// scales, and with some linears left dense.
/// </summary>
public class FormatForwardTests
{
    public static IEnumerable<object[]> Formats() =>
    [
        ["nf4"], ["nf4-double-quant"], ["fp4-block-32"], ["aqlm-2x8"],
    ];

    internal static string Make(TempFolder folder, string format, Func<string, bool>? keepDense = null) => format switch
    {
        "nf4" => TinyModels.Bnb4Bit(folder, keepDense: keepDense),
        "nf4-double-quant" => TinyModels.Bnb4Bit(folder, doubleQuant: true, keepDense: keepDense),
        "fp4-block-32" => TinyModels.Bnb4Bit(folder, FourBitType.Fp4, blockSize: 32, keepDense: keepDense),
        "aqlm-2x8" => TinyModels.Aqlm(folder, keepDense: keepDense),
        _ => throw new ArgumentException(format),
    };

    static string ScaleSuffix(string format) => format.StartsWith("aqlm") ? ".scales" : Bnb4BitLinearTensors.AbsmaxSuffix;

    [Theory]
    [MemberData(nameof(Formats))]
    public void ModelMatchesTheReferenceUnperturbedAndUnderAPerturbation(string format)
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(Make(folder, format));
        using var backend = new CpuBackend();
        using (var frozen = ModelLoader.Load(checkpoint, backend, TrainingScope.None))
            ForwardReferenceTests.CompareOnBatch(frozen, new ReferenceLlama(checkpoint), checkpoint.Config.VocabSize);

        // Trainable tensor t (ordinal order of the scale names) acts as master + ε·z(seed, t, i).
        var scaleNames = checkpoint.Tensors.Names.Where(n => n.EndsWith(ScaleSuffix(format), StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        const ulong seed = 4242; const float eps = 0.01f;
        var reference = new ReferenceLlama(checkpoint, (name, values) =>
        {
            int t = scaleNames.IndexOf(name);
            return t < 0 ? values : values.Select((v, i) => GaussianDirection.Step(v, eps, GaussianDirection.Z(seed, t, i))).ToArray();
        });
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        Assert.Equal(scaleNames, model.Trainable.Select(p => p.Name));
        Assert.All(model.Trainable, p => Assert.True(p.IsQuantizationScale));
        double shift = ForwardReferenceTests.CompareOnBatch(model, reference, checkpoint.Config.VocabSize, new Perturbation(seed, eps));
        Assert.True(shift > 100 * ForwardReferenceTests.LogitTolerance, $"the perturbation moved the logits by only {shift}");
    }

    [Theory]
    [InlineData("nf4-double-quant")]
    [InlineData("aqlm-2x8")]
    public void MixedCheckpointsLoadTheirDenseLinearsAsDense(string format)
    {
        static bool KeepDense(string name) =>
            name.StartsWith("model.layers.1.mlp.", StringComparison.Ordinal) || name == "model.layers.0.self_attn.q_proj.weight";
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(Make(folder, format, KeepDense));
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        var dense = model.AllLinears.OfType<DenseLinear>().Select(l => l.Name).Where(n => n != "lm_head")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.down_proj", "model.layers.1.mlp.gate_proj",
                      "model.layers.1.mlp.up_proj"], dense);
        Assert.Equal(14 - 4, model.AllLinears.OfType<IQuantizedLinear>().Count());
        Assert.Empty(model.UnusedTensors);
        ForwardReferenceTests.CompareOnBatch(model, new ReferenceLlama(checkpoint), checkpoint.Config.VocabSize);

        var config = System.Text.Json.Nodes.JsonNode.Parse(
            File.ReadAllText(Path.Combine(checkpoint.Directory, "config.json")))!["quantization_config"]!;
        var listed = format.StartsWith("aqlm")
            ? config["linear_weights_not_to_quantize"]!.AsArray().Select(n => (string)n!).ToList()
            : config["llm_int8_skip_modules"]!.AsArray().Select(n => (string)n! + ".weight").ToList();
        foreach (var name in dense.Append("lm_head")) Assert.Contains(name + ".weight", listed);
    }

    [Fact]
    public void NegativeAqlmScalesLoadForEvaluationButNotForQzo()
    {
        using var folder = new TempFolder();
        string path = Make(folder, "aqlm-2x8");
        const string name = "model.layers.1.self_attn.v_proj.scales";
        string file = Path.Combine(path, "model.safetensors");
        using (var source = Qzo.IO.SafetensorsFile.Open(file))
        {
            var values = source.ReadFloat32(name);
            values[3] = -values[3];
            Qzo.IO.SafetensorsWriter.WriteReplacing(source, file + ".new",
                new Dictionary<string, ReadOnlyMemory<byte>> { [name] = DTypes.FromSingle(DType.F16, values) });
        }
        File.Move(file + ".new", file, overwrite: true);
        using var checkpoint = Checkpoint.Open(path);
        using var backend = new CpuBackend();
        using (ModelLoader.Load(checkpoint, backend, TrainingScope.None)) { }
        var e = Assert.Throws<QzoException>(() => ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales));
        Assert.Contains(name, e.Message);
        Assert.Contains("negative", e.Message);
    }

    [Theory]
    [InlineData(".weight.quant_state.bitsandbytes__nf4", "quant_state")]
    [InlineData(".weight.quant_map", ".weight.quant_map")]
    [InlineData(".weight.nested_absmax", ".weight.nested_absmax")]
    public void ABitsandbytesLinearMissingPartOfItsStateIsRefusedByName(string suffix, string named)
    {
        using var folder = new TempFolder();
        string path = Make(folder, "nf4-double-quant");
        TinyModels.DropTensors(path, n => n == "model.layers.0.mlp.up_proj" + suffix);
        using var checkpoint = Checkpoint.Open(path);
        using var backend = new CpuBackend();
        var e = Assert.Throws<QzoException>(() => ModelLoader.Load(checkpoint, backend, TrainingScope.None));
        Assert.Contains("model.layers.0.mlp.up_proj", e.Message);
        Assert.Contains(named, e.Message);
    }
}

/// <summary>
/// NF4 (double-quantized) and AQLM models on the GPU backend (bf16; here ILGPU's CPU accelerator) against the CPU backend.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class FormatGpuForwardTests
{
    [Theory]
    [InlineData("nf4-double-quant")]
    [InlineData("aqlm-2x8")]
    public void PerturbedLossAndLogitsMatchTheCpuBackend(string format)
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(FormatForwardTests.Make(folder, format));
        using var cpuBackend = new CpuBackend();
        using var gpuBackend = TestBackends.Gpu();
        using var cpu = ModelLoader.Load(checkpoint, cpuBackend, TrainingScope.QuantizationScales);
        using var gpu = ModelLoader.Load(checkpoint, gpuBackend, TrainingScope.QuantizationScales);
        var batch = TinyModels.PadLeft([TinyModels.RandomIds(10, 320, 1), TinyModels.RandomIds(5, 320, 2)]);
        var p = new Perturbation(79, 0.01f);
        var expected = cpu.Loss(batch, p);
        var actual = gpu.Loss(batch, p);
        Assert.True(Math.Abs(actual.Mean - expected.Mean) < 0.01 * expected.Mean, $"loss {actual.Mean} vs {expected.Mean}");
        Assert.NotEqual(expected.Mean, cpu.Loss(batch, Perturbation.None).Mean);
    }
}
