using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Qzo.Compute;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization.Gptq;
using Qzo.Text;

namespace Qzo.Quantization;

/// <summary>Where the calibration text comes from and how much of it GPTQ uses (see <see cref="CalibrationSet"/>).</summary>
/// <param name="Samples">windows (null: 128, fewer when the data runs out)</param>
/// <param name="Length">tokens per window (null: 2048, clipped to the data and the model's positions)</param>
public sealed record CalibrationOptions(string Path, int? Samples = null, int? Length = null, ulong Seed = 0);

/// <summary>
/// What GPTQ did to one linear. Errors are ‖XWᵀ − XŴᵀ‖ / ‖XWᵀ‖ (Frobenius) over the calibration inputs X that reached it.
/// </summary>
public sealed record GptqLinearReport(string Name, int Layer, int InFeatures, int OutFeatures, double RelativeError,
    double RtnRelativeError, double Seconds);

/// <param name="LayerSeconds">
/// wall seconds of each decoder layer, from the end of the one before (or from the start of the run) to the
/// moment its tensors are handed to the writer: its calibration passes, Hessians, the solves and the pass through it.
/// </param>
public sealed record GptqQuantizationReport(int Samples, int Length, long CalibrationTokens, IReadOnlyList<GptqLinearReport> Linears,
    IReadOnlyList<double> LayerSeconds)
{
    public JsonObject ToJson() => new()
    {
        ["calibration_samples"] = Samples,
        ["calibration_length"] = Length,
        ["calibration_file_tokens"] = CalibrationTokens,
        ["mean_relative_error"] = Linears.Average(l => l.RelativeError),
        ["mean_rtn_relative_error"] = Linears.Average(l => l.RtnRelativeError),
        ["linears"] = new JsonArray(Linears.Select(l => (JsonNode)new JsonObject
        {
            ["name"] = l.Name, ["layer"] = l.Layer, ["in_features"] = l.InFeatures, ["out_features"] = l.OutFeatures,
            ["relative_error"] = l.RelativeError, ["rtn_relative_error"] = l.RtnRelativeError, ["seconds"] = l.Seconds,
        }).ToArray()),
        ["layer_seconds"] = new JsonArray(LayerSeconds.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
    };
}

/// <summary>Progress of a GPTQ run: the fraction done and what is being worked on.</summary>
public readonly record struct GptqProgress(double Fraction, string Status);

public static partial class CheckpointQuantizer
{
    [GeneratedRegex(@"^model\.(?:decoder\.)?layers\.(\d+)\.")]
    private static partial Regex GptqLayerPrefix();

    /// <summary>
    /// GPTQ with calibration, layer by layer as GPTQ runs it: the calibration windows' hidden states go through decoder
    /// layer 0, 1, ... in turn; in each layer the linears are quantized in true-sequential order ([q, k, v], [o],
    /// [gate, up], [down]; one Hessian per shared input, collected by running the layer with the groups before already
    /// quantized; all four at once without true_sequential), and the hidden states then pass through the quantized layer
    /// to the next. Only the current layer's weights, its Hessians and the calibration hidden states are in memory; the
    /// output is written shard by shard in layer order as the layers finish, into a temporary folder renamed at the end.
    /// Everything runs on <paramref name="backend"/>, which the caller chooses: the forward passes, the Hessians and the per-matrix
    /// algorithm (<see cref="GptqSolver"/>).
    /// </summary>
    public static GptqQuantizationReport QuantizeGptq(string input, string output, GptqConfig config, CalibrationOptions calibration,
                                                      IBackend backend, int blockSize = 128, bool overwrite = false,
                                                      IProgress<GptqProgress>? progress = null, long maxShardBytes = 2L << 30,
                                                      int rowsPerForward = 4096)
    {
        var settings = GptqSettings.From(config, blockSize);
        if (blockSize <= 0) throw new QzoException($"--gptq-block-size must be positive, got {blockSize}");
        using var source = Checkpoint.Open(input);
        if (source.IsQuantized) throw new QzoException($"{input}: the checkpoint is already quantized");
        var tokenizer = Tokenizer.Load(input);
        if (tokenizer.VocabSize > source.Config.VocabSize)
            throw new QzoException(
                $"{input}: the tokenizer has {tokenizer.VocabSize} tokens but config.json's vocab_size is {source.Config.VocabSize}");
        var set = CalibrationSet.Load(calibration.Path, tokenizer, calibration.Samples, calibration.Length, calibration.Seed,
            source.Config.MaxPositions);

        // Output plan in processing order (layer 0's tensors, layer 1's, ..., then the rest), so shards fill as layers finish.
        var layerOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in source.Tensors.Names)
        {
            var match = GptqLayerPrefix().Match(name);
            if (!match.Success) continue;
            int layer = int.Parse(match.Groups[1].Value);
            if (layer >= source.Config.Layers && IsQuantizable(name))
                throw new QzoException(
                    $"{input}: tensor '{name}' belongs to layer {layer}, but config.json has {source.Config.Layers} layers");
            layerOf[name] = layer;
        }
        foreach (var name in source.Tensors.Names.Where(IsQuantizable)) // refuse unpackable shapes before hours of calibration
        {
            var shape = source.Tensors.Get(name).Shape;
            if (shape.Length != 2 || shape[0] * config.Bits % 32 != 0 || shape[1] * config.Bits % 32 != 0)
                throw new QzoException(
                    $"{source.Tensors.FileOf(name).Path}: '{name}' is [{string.Join(", ", shape)}], which {config.Bits}-bit GPTQ cannot " +
                    "pack into 32-bit words");
        }
        // OrderBy is stable: names stay ordinal within a layer
        var ordered = source.Tensors.Names.OrderBy(n => layerOf.TryGetValue(n, out int l) ? l : int.MaxValue).ToList();
        var plan = ordered.SelectMany(name => Outputs(source, name, config)).ToList();
        var shards = Shard(plan, maxShardBytes);
        CheckBudget(source, output, plan.Sum(o => o.Bytes), shards.Max(s => s.Sum(o => o.Bytes)));

        var reports = new List<GptqLinearReport>();
        var layerSeconds = new List<double>();
        var layerClock = Stopwatch.StartNew();

        OutputFolder.Write(output, overwrite, folder =>
        {
            var skip = new HashSet<string>(StringComparer.Ordinal) { "config.json", "model.safetensors.index.json",
                "quantize_config.json" };
            foreach (var file in source.Tensors.Files) skip.Add(Path.GetRelativePath(input, file.Path));
            OutputFolder.CopyContents(input, folder, skip.Contains);

            var produced = new Dictionary<string, List<TensorToWrite>>(StringComparer.Ordinal);
            var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
            int nextShard = 0;
            void WriteReadyShards(bool all)
            {
                for (; nextShard < shards.Count; nextShard++)
                {
                    var sources = shards[nextShard].Select(o => o.Source).Distinct().ToList();
                    if (!all && sources.Any(s => IsQuantizable(s) && !produced.ContainsKey(s))) return;
                    string fileName = shards.Count == 1 ? "model.safetensors"
                        : $"model-{nextShard + 1:D5}-of-{shards.Count:D5}.safetensors";
                    var tensors = new List<TensorToWrite>();
                    foreach (var s in sources)
                    {
                        if (produced.Remove(s, out var quantized)) tensors.AddRange(quantized);
                        else if (IsQuantizable(s)) throw new InvalidOperationException($"'{s}' was never quantized");
                        else
                        {
                            var info = source.Tensors.Get(s);
                            tensors.Add(new TensorToWrite(s, info.DType, info.Shape, source.Tensors.FileOf(s).GetBytes(s).ToArray()));
                        }
                    }
                    SafetensorsWriter.Write(Path.Combine(folder, fileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
                    foreach (var t in tensors) weightMap[t.Name] = fileName;
                }
            }

            LayerwiseCalibration.Run(source, set, backend, rowsPerForward, config.TrueSequential, linear =>
            {
                var clock = Stopwatch.StartNew();
                GptqSolution solution;
                try { solution = GptqSolver.Quantize(backend, linear.Weight, linear.OutFeatures, linear.InFeatures, linear.Hessian.Sum,
                    settings); }
                catch (QzoException e) { throw new QzoException($"{linear.Name}: {e.Message}", e); }
                var quantized = solution.Dequantize();
                var rtn = RtnQuantizer.Quantize(linear.Weight, linear.OutFeatures, linear.InFeatures, config);
                var rtnWeights = GptqReference.Dequantize(rtn.QWeight, rtn.QZeros, rtn.Scales.Select(x => (float)x).ToArray(), rtn.GIdx,
                                                          linear.InFeatures, linear.OutFeatures, config.Bits, config.Format);
                double error = linear.Hessian.RelativeError(linear.Weight, quantized, linear.OutFeatures);
                double rtnError = linear.Hessian.RelativeError(linear.Weight, rtnWeights, linear.OutFeatures);
                GptqLinearTensors packed;
                try { packed = solution.Pack(config.Format); }
                catch (QzoException e) { throw new QzoException($"{linear.Name}: {e.Message}", e); }
                produced[linear.Name + ".weight"] = GptqTensors(linear.Name, packed, config.Bits);
                reports.Add(new GptqLinearReport(linear.Name, linear.Layer, linear.InFeatures, linear.OutFeatures, error, rtnError,
                    clock.Elapsed.TotalSeconds));
                return quantized;
            }, layerDone: l =>
            {
                foreach (var name in layerOf.Where(kv => kv.Value == l && IsQuantizable(kv.Key)).Select(kv => kv.Key))
                    if (!produced.ContainsKey(name))
                        throw new QzoException(
                            $"{input}: '{name}' is not one of the linears the {source.Config.Architecture.ClassName} layer runs");
                layerSeconds.Add(layerClock.Elapsed.TotalSeconds);
                layerClock.Restart();
                WriteReadyShards(all: false);
            }, progress);
            WriteReadyShards(all: true);
            if (shards.Count > 1) ShardedIndexWriter.Write(folder, weightMap, plan.Sum(o => o.Bytes));

            var configJson = (JsonObject)source.Config.Json!.DeepClone();
            configJson["quantization_config"] = config.ToJson();
            AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), configJson.ToJsonString(Json.Indented) + "\n");
            AtomicFile.WriteAllText(Path.Combine(folder, "quantize_config.json"), config.ToJson().ToJsonString(Json.Indented) + "\n");
            progress?.Report(new(1, "done"));
        });
        return new GptqQuantizationReport(set.Samples, set.Length, set.TotalTokens, reports, layerSeconds);
    }

    static List<TensorToWrite> GptqTensors(string prefix, GptqLinearTensors q, int bits) =>
    [
        new TensorToWrite(prefix + ".qweight", DType.I32, [q.InFeatures * bits / 32, q.OutFeatures], Bytes(q.QWeight)),
        new TensorToWrite(prefix + ".qzeros", DType.I32, [q.Groups, q.OutFeatures * bits / 32], Bytes(q.QZeros)),
        new TensorToWrite(prefix + ".scales", DType.F16, [q.Groups, q.OutFeatures], Bytes(q.Scales)),
        new TensorToWrite(prefix + ".g_idx", DType.I32, [q.InFeatures], Bytes(q.GIdx)),
    ];
}
