using Qzo.Compute.Cpu;
using Qzo.IO;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Architectures.Llama;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Gptq;
using Xunit.Abstractions;

namespace Qzo.Tests.Models;

/// <summary>
/// The up-front size estimates (synth, quantize, loading, bench) against what the code then writes or allocates, and the
/// refusals when a budget (shrunk with <see cref="ResourceBudget.Limit"/>) is smaller than the estimate.
/// </summary>
public class ResourceEstimateTests(ITestOutputHelper output)
{
    static long TensorBytesIn(string folder) => Directory.GetFiles(folder, "*.safetensors").Sum(path =>
    {
        using var f = SafetensorsFile.Open(path);
        return f.Tensors.Sum(t => t.ByteLength);
    });

    static long SafetensorsFileBytes(string folder) => Directory.GetFiles(folder, "*.safetensors").Sum(p => new FileInfo(p).Length);

    public static TheoryData<string> SynthShapes => ["llama", "qwen2-tied", "opt-projected", "mistral-fp32-gqa"];

    static SynthOptions Shape(string name) => name switch
    {
        "llama" => new SynthOptions { Hidden = 64, Layers = 2, Heads = 4, Vocab = 320 },
        "qwen2-tied" => new SynthOptions
        {
            Architecture = ArchitectureRegistry.Qwen2, Hidden = 48, Layers = 3, Heads = 4, KvHeads = 2, Vocab = 330, TieEmbeddings = true,
        },
        "opt-projected" => new SynthOptions
        {
            Architecture = ArchitectureRegistry.Opt, Hidden = 64, Layers = 2, Heads = 4, WordEmbedDim = 32, Vocab = 320, MaxPositions = 64,
        },
        "mistral-fp32-gqa" => new SynthOptions
        {
            Architecture = ArchitectureRegistry.Mistral, Hidden = 64, Layers = 1, Heads = 8, KvHeads = 2, HeadDim = 16, Intermediate = 100,
            Vocab = 300, DType = Qzo.Numerics.DType.F32,
        },
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(SynthShapes))]
    public void SynthEstimateIsTheTensorBytesWrittenAndALowerBoundOfTheFile(string shape)
    {
        using var folder = new TempFolder();
        var options = Shape(shape);
        ModelSynthesizer.Write(folder["model"], options);
        var estimate = SynthFootprint.Of(options);
        long tensors = TensorBytesIn(folder["model"]), file = SafetensorsFileBytes(folder["model"]);
        output.WriteLine($"{shape}: estimated tensor bytes {estimate.TensorBytes}, written {tensors}; " +
            $"file lower bound {estimate.FileBytes}, file {file}");
        Assert.Equal(tensors, estimate.TensorBytes);
        Assert.InRange(estimate.FileBytes, 0.9 * file, file);
    }

    [Fact]
    public void QuantizeEstimatesAreTheTensorBytesWrittenWithinOnePercent()
    {
        using var folder = new TempFolder();
        string dense = TinyModels.Dense(folder);
        using var source = Checkpoint.Open(dense);
        var gptq = GptqConfig.Create(4, 32, sym: true, GptqCheckpointFormat.Gptq);
        CheckpointQuantizer.QuantizeRtn(dense, folder["gptq"], gptq);
        var cases = new (string Name, ILinearQuantizer Format, Func<string, bool>? KeepDense)[]
        {
            ("nf4-double", new Bnb4BitCheckpointFormat(FourBitType.Nf4, 64, DoubleQuant: true), null),
            ("aqlm-2x8-mixed", new AqlmCheckpointFormat(AqlmScheme.Parse("2x8"), new AqlmQuantizerOptions(KMeansIterations: 1, Rounds: 1)),
             n => n.Contains("down_proj")),
        };
        foreach (var (name, format, keep) in cases) CheckpointQuantizer.Quantize(dense, folder[name], format, keepDense: keep);

        var pairs = new List<(string, long Estimate, long Written)>
        {
            ("gptq", CheckpointQuantizer.EstimatedTensorBytes(source, gptq), TensorBytesIn(folder["gptq"])),
        };
        foreach (var c in cases)
            pairs.Add((c.Name, CheckpointQuantizer.EstimatedTensorBytes(source, c.Format, c.KeepDense), TensorBytesIn(folder[c.Name])));
        foreach (var (name, estimate, written) in pairs)
        {
            output.WriteLine($"{name}: estimated {estimate} tensor bytes, written {written}");
            // Exact for GPTQ and AQLM; bitsandbytes' quant_state JSON is counted as 200 bytes a linear, a little over what is written.
            Assert.InRange(estimate, written, written * 1.01);
        }
    }

    [Fact]
    public void LoadEstimateIsALowerBoundWithinFivePercentOfWhatTheCpuBackendAllocates()
    {
        using var folder = new TempFolder();
        var cases = new (string Model, TrainingScope Scope)[]
        {
            (TinyModels.Dense(folder), TrainingScope.None), (TinyModels.Dense(folder, name: "dense2"), TrainingScope.AllWeights),
            (TinyModels.Dense(folder, tied: true, name: "tied"), TrainingScope.None),
            (TinyModels.Gptq(folder), TrainingScope.QuantizationScales),
            (TinyModels.Gptq(folder, bits: 8, groupSize: -1), TrainingScope.None),
            (TinyModels.Bnb4Bit(folder, doubleQuant: true), TrainingScope.QuantizationScales),
            (TinyModels.Aqlm(folder), TrainingScope.ScalesAndUnquantized),
        };
        foreach (var (model, scope) in cases)
        {
            using var checkpoint = Checkpoint.Open(model);
            using var backend = new CpuBackend();
            double estimate = LoadFootprint.Bytes(checkpoint, backend.ComputeType, scope);
            using (ModelLoader.Load(checkpoint, backend, scope)) { }
            long allocated = backend.Memory.PeakTotal;
            output.WriteLine($"{Path.GetFileName(model)} ({scope}): estimated {estimate} bytes, allocated {allocated} " +
                $"({estimate / allocated:P1})");
            Assert.InRange(estimate, 0.95 * allocated, allocated);
        }
    }

    [Fact]
    public void LoadingIsRefusedBeforeAnyAllocationWhenTheModelExceedsTheMemoryBudget()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Gptq(folder));
        using var backend = new CpuBackend();
        double estimate = LoadFootprint.Bytes(checkpoint, backend.ComputeType, TrainingScope.QuantizationScales);
        using (ResourceBudget.Limit(hostMemory: (long)estimate - 1))
        {
            var e = Assert.Throws<QzoException>(() => ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales));
            Assert.Equal($"loading: the model needs {ByteSize.Text(estimate)} of memory, " +
                         $"but the machine has {ByteSize.Text(estimate - 1)} available", e.Message);
            Assert.Equal(0, backend.Memory.PeakTotal);
        }
        using (ResourceBudget.Limit(hostMemory: (long)estimate))
        using (ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales)) { }
    }

    [Fact]
    public void QuantizeIsRefusedBeforeWritingWhenTheDiskOrMemoryBudgetIsTooSmall()
    {
        using var folder = new TempFolder();
        string dense = TinyModels.Dense(folder);
        var gptq = GptqConfig.Create(4, 32, sym: true, GptqCheckpointFormat.Gptq);
        using (ResourceBudget.Limit(freeDisk: 1000))
        {
            var e = Assert.Throws<QzoException>(() => CheckpointQuantizer.QuantizeRtn(dense, folder["out/gptq"], gptq));
            Assert.Matches(@"^quantize: the quantized checkpoint would take \d+\.\d+ KiB, but .* has 1000 B free$", e.Message);
            e = Assert.Throws<QzoException>(() => CheckpointQuantizer.Quantize(dense, folder["out/nf4"], new Bnb4BitCheckpointFormat()));
            Assert.StartsWith("quantize: the quantized checkpoint would take ", e.Message);
        }
        using (ResourceBudget.Limit(hostMemory: 1000))
        {
            var e = Assert.Throws<QzoException>(() => CheckpointQuantizer.QuantizeRtn(dense, folder["out/gptq"], gptq));
            Assert.Matches(@"^quantize: quantizing needs \d+\.\d+ KiB of memory, but the machine has 1000 B available$", e.Message);
        }
        Assert.False(Directory.Exists(folder["out"]));
    }

    [Fact]
    public void SynthIsRefusedBeforeWritingWhenTheDiskOrMemoryBudgetIsTooSmall()
    {
        using var folder = new TempFolder();
        var options = Shape("llama");
        using (ResourceBudget.Limit(freeDisk: 1000))
            Assert.Matches(@"^synth: the checkpoint would take \d+\.\d+ KiB, but .* has 1000 B free$",
                           Assert.Throws<QzoException>(() => ModelSynthesizer.Write(folder["out/model"], options)).Message);
        using (ResourceBudget.Limit(hostMemory: 1000))
            Assert.Matches(@"^synth: writing the checkpoint needs \d+\.\d+ KiB of memory, but the machine has 1000 B available$",
                           Assert.Throws<QzoException>(() => ModelSynthesizer.Write(folder["out/model"], options)).Message);
        Assert.False(Directory.Exists(folder["out"]));
    }

    [Theory]
    [InlineData("gptq")]
    [InlineData("nf4")]
    [InlineData("aqlm-2x8")]
    public void BenchWeightEstimateIsWhatSyntheticLlamaAllocates(string format)
    {
        var config = ModelShapes.Get("tiny");
        var synthetic = SyntheticFormat.Parse(format);
        using var backend = new CpuBackend();
        using (SyntheticLlama.Create(backend, config, synthetic, seed: 1, TrainingScope.QuantizationScales)) { }
        double estimate = BenchFootprint.WeightBytes(config, synthetic, backend.ComputeType);
        output.WriteLine($"bench tiny {format}: estimated {estimate} bytes, allocated {backend.Memory.PeakTotal}");
        Assert.Equal(backend.Memory.PeakTotal, estimate);
    }
}
