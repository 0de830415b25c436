using System.Text;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Quantization;
using Qzo.Diffusion.Sd3;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Diffusion.Quantization;

/// <summary>
/// One component folder quantized on its own: FP4 without double quantization at another block size, sharded inputs,
/// and the refusals (one line naming the file, nothing written, not even when a weight fails half-way).
/// </summary>
public sealed class ComponentQuantizationTests : IDisposable
{
    readonly TempFolder _temp = new();
    static readonly Sd3TransformerConfig Config = Sd3PipelinePreset.Tiny.Transformer;

    public void Dispose() => _temp.Dispose();

    string Transformer(string name, long? maxShardBytes = null)
    {
        string folder = _temp[name];
        Sd3TransformerSynthesis.Write(folder, Config, DType.BF16, seed: 4, maxShardBytes: maxShardBytes);
        return folder;
    }

    [Fact]
    public void Fp4WithoutDoubleQuantStoresAnF32AbsmaxAndNoNestedTensors()
    {
        string dense = Transformer("dense");
        var format = new Bnb4BitCheckpointFormat(FourBitType.Fp4, 128, DoubleQuant: false);
        var report = PipelineQuantizer.Quantize(dense, _temp["fp4"], null, format).Single();
        Assert.Equal("dense", report.Name);
        Assert.Equal(50, report.QuantizedLinears);

        using var tensors = CheckpointTensors.Open(_temp["fp4"]);
        const string p = "context_embedder"; // [64, 96]: 6,144 weights, 48 blocks of 128
        const string state = "{\"quant_type\": \"fp4\", \"blocksize\": 128, \"dtype\": \"bfloat16\", \"shape\": [64, 96]}";
        (string, DType, long[])[] expected =
        [
            (p + ".bias", DType.BF16, [64]),
            (p + ".weight", DType.U8, [3072, 1]),
            (p + ".weight.absmax", DType.F32, [48]),
            (p + ".weight.quant_map", DType.F32, [16]),
            (p + ".weight.quant_state.bitsandbytes__fp4", DType.U8, [state.Length]),
        ];
        var actual = tensors.Names.Where(n => n.StartsWith(p + ".", StringComparison.Ordinal)).Select(tensors.Get).ToList();
        Assert.Equal(expected.Select(e => (e.Item1, e.Item2, string.Join(",", e.Item3))),
                     actual.Select(t => (t.Name, t.DType, string.Join(",", t.Shape))));
        Assert.Equal(state, Encoding.UTF8.GetString(tensors.FileOf(p + ".weight").GetBytes(p + ".weight.quant_state.bitsandbytes__fp4")));
        Assert.DoesNotContain(tensors.Names, n => n.Contains("nested", StringComparison.Ordinal));

        using var weights = CheckpointTensors.Open(dense);
        var w = weights.ReadFloat32(p + ".weight");
        var absmax = tensors.ReadFloat32(p + ".weight.absmax");
        Assert.Equal(Enumerable.Range(0, 48).Select(b => w.Skip(128 * b).Take(128).Max(MathF.Abs)), absmax);

        using var checkpoint = Checkpoint.OpenComponent(_temp["fp4"]);
        var config = Assert.IsType<BitsAndBytesConfig>(checkpoint.Quantization);
        Assert.Equal((FourBitType.Fp4, false, "bfloat16"), (config.QuantType, config.DoubleQuant, config.ComputeDType));
        using var backend = new CpuBackend();
        using var model = Sd3Transformer.Load(_temp["fp4"], backend);
        Assert.All(model.AllLinears, l => Assert.IsAssignableFrom<IQuantizedLinear>(l));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EachErrorIsTheSerialOneOfTheEagerPathInTheOrderTheCodesAreWritten(bool doubleQuant)
    {
        string dense = Transformer("dense");
        var format = new Bnb4BitCheckpointFormat(FourBitType.Nf4, 64, doubleQuant);
        var report = PipelineQuantizer.Quantize(dense, _temp["q"], null, format).Single();
        using var weights = CheckpointTensors.Open(dense);
        using var written = SafetensorsFile.Open(Path.Combine(_temp["q"], CheckpointTensors.DiffusersFileName));
        var codesInFileOrder = written.Tensors.Where(t => t.DType == DType.U8 && t.Name.EndsWith(".weight", StringComparison.Ordinal))
                                      .Select(t => t.Name[..^".weight".Length]).ToList();
        Assert.Equal(codesInFileOrder, report.Errors.Layers.Select(l => l.Linear));
        foreach (var (module, error) in report.Errors.Layers)
        {
            var info = weights.Get(module + ".weight");
            var w = weights.ReadFloat32(info.Name);
            var linear = Bnb4BitLinearTensors.Quantize(w, info.Shape[0], info.Shape[1], FourBitType.Nf4, 64, doubleQuant, "bfloat16");
            var decoded = Bnb4BitReference.Dequantize(linear.Packed, linear.AbsmaxValues(), FourBitCode.Nf4.Values, 64, w.Length);
            Assert.Equal(QuantizeReport.RelativeError(w, decoded), error);
        }
    }

    [Fact]
    public void AShardedTransformerQuantizesToTheSameTensorsAsOneFile()
    {
        string single = Transformer("single"), sharded = Transformer("sharded", maxShardBytes: 200_000);
        Assert.True(File.Exists(Path.Combine(sharded, "diffusion_pytorch_model.safetensors.index.json")));
        Assert.True(Directory.GetFiles(sharded, "diffusion_pytorch_model-*.safetensors").Length > 2);
        var format = new Bnb4BitCheckpointFormat(FourBitType.Nf4, 64, DoubleQuant: true);
        var fromSingle = PipelineQuantizer.Quantize(single, _temp["q-single"], null, format).Single();
        var fromShards = PipelineQuantizer.Quantize(sharded, _temp["q-sharded"], null, format).Single();
        Assert.Equal(fromSingle.Errors.Layers, fromShards.Errors.Layers);

        using var a = CheckpointTensors.Open(_temp["q-single"]);
        using var b = CheckpointTensors.Open(_temp["q-sharded"]);
        Assert.Equal(a.Names, b.Names);
        foreach (var name in a.Names) Assert.True(a.FileOf(name).GetBytes(name).SequenceEqual(b.FileOf(name).GetBytes(name)), name);
        // The quantized transformer fits in one of diffusers' 10 GB shards.
        Assert.Equal(["config.json", CheckpointTensors.DiffusersFileName],
                     Directory.GetFiles(_temp["q-sharded"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AWeightThatCannotBeQuantizedStopsTheRunWithNothingWritten()
    {
        string dense = Transformer("nan");
        string file = Path.Combine(dense, CheckpointTensors.DiffusersFileName);
        const string victim = "transformer_blocks.1.ff.net.2.weight";
        List<TensorToWrite> tensors;
        using (var source = SafetensorsFile.Open(file))
            tensors = source.Tensors.Select(t => new TensorToWrite(t.Name, t.DType, t.Shape, source.GetBytes(t.Name).ToArray())).ToList();
        int i = tensors.FindIndex(t => t.Name == victim);
        var values = new float[tensors[i].Data.Length / 2];
        values[100] = float.NaN;
        tensors[i] = tensors[i] with { Data = DTypes.FromSingle(DType.BF16, values) };
        SafetensorsWriter.Write(file, tensors);

        var e = Assert.Throws<QzoException>(() =>
            PipelineQuantizer.Quantize(dense, _temp["out"], null, new Bnb4BitCheckpointFormat()));
        Assert.Contains(victim, e.Message);
        Assert.Contains(file, e.Message);
        Assert.Equal(["nan"], Directory.GetFileSystemEntries(_temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void RefusesWhatIsNotAnUnquantizedComponentOrPipeline()
    {
        string dense = Transformer("t");
        var nf4 = new Bnb4BitCheckpointFormat();
        string Refusal(string input, IReadOnlyCollection<string>? components = null, Bnb4BitCheckpointFormat? format = null) =>
            Assert.Throws<QzoException>(() => PipelineQuantizer.Quantize(input, _temp["out"], components, format ?? nf4)).Message;

        Assert.Contains("--components applies to a pipeline folder", Refusal(dense, ["transformer"]));
        Assert.Contains("block size 48", Refusal(dense, format: nf4 with { BlockSize = 48 }));
        PipelineQuantizer.Quantize(dense, _temp["once"], null, nf4);
        Assert.Contains("already quantized", Refusal(_temp["once"]));

        File.WriteAllText(Path.Combine(dense, "config.json"), "{\"_class_name\": \"UNet2DConditionModel\"}");
        Assert.Contains("'UNet2DConditionModel' is not a model Qzo quantizes", Refusal(dense));
        Assert.False(Directory.Exists(_temp["out"]));
    }
}
