using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;

namespace Qzo.Quantization;

public static partial class CheckpointQuantizer
{
    /// <summary>
    /// Quantizes every decoder-layer linear of an unquantized checkpoint with <paramref name="format"/> (NF4/FP4, AQLM);
    /// everything else is copied as it is; config.json gets the format's quantization_config. Linears for which
    /// <paramref name="keepDense"/> (given the weight's name) is true stay unquantized: a mixed checkpoint, listed in the config.
    /// </summary>
    public static QuantizeReport Quantize(string input, string output, ILinearQuantizer format, bool overwrite = false,
                                          IProgress<double>? progress = null, Func<string, bool>? keepDense = null,
                                          long maxShardBytes = 2L << 30)
    {
        using var source = Checkpoint.Open(input);
        if (source.IsQuantized) throw new QzoException($"{input}: the checkpoint is already quantized");
        bool Quantized(string name) => IsQuantizable(name) && keepDense?.Invoke(name) != true;
        var names = source.Tensors.Names.ToList();
        var sourceDType = names.Select(source.Tensors.Get).FirstOrDefault(t => Quantized(t.Name))?.DType ?? DType.BF16;

        // Shards: each source tensor's outputs stay together; a shard closes before it would pass maxShardBytes.
        var shards = new List<List<string>> { new() };
        long size = 0, largestShard = 0;
        foreach (var name in names)
        {
            long bytes = OutputBytes(source, name, format, Quantized(name));
            if (size > 0 && size + bytes > maxShardBytes) { shards.Add(new()); size = 0; }
            shards[^1].Add(name);
            size += bytes;
            largestShard = Math.Max(largestShard, size);
        }
        CheckBudget(source, output, EstimatedTensorBytes(source, format, keepDense), largestShard);

        var errors = new List<(string, double)>();
        OutputFolder.Write(output, overwrite, folder =>
        {
            var skip = new HashSet<string>(StringComparer.Ordinal) { "config.json", "model.safetensors.index.json",
                "quantize_config.json" };
            foreach (var file in source.Tensors.Files) skip.Add(Path.GetRelativePath(input, file.Path));
            OutputFolder.CopyContents(input, folder, skip.Contains);

            var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
            long totalBytes = 0;
            int done = 0;
            for (int s = 0; s < shards.Count; s++)
            {
                string fileName = shards.Count == 1 ? "model.safetensors" : $"model-{s + 1:D5}-of-{shards.Count:D5}.safetensors";
                var tensors = new List<TensorToWrite>();
                foreach (var name in shards[s])
                {
                    tensors.AddRange(Produce(source, name, Quantized(name), format, errors));
                    progress?.Report((double)++done / names.Count);
                }
                SafetensorsWriter.Write(Path.Combine(folder, fileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
                foreach (var t in tensors) { weightMap[t.Name] = fileName; totalBytes += t.Data.Length; }
            }
            if (shards.Count > 1) ShardedIndexWriter.Write(folder, weightMap, totalBytes);

            var unquantizedTensors = names.Where(n => !Quantized(n)).ToList();
            var unquantizedLinears = names.Where(n => n.EndsWith(".weight", StringComparison.Ordinal) && !Quantized(n) &&
                                                      source.Tensors.Get(n).Shape.Length == 2
                                                      && !n.Contains("embed_", StringComparison.Ordinal))
                                          .Select(n => n[..^".weight".Length]).Append("lm_head").Distinct().ToList();
            var configJson = (JsonObject)source.Config.Json!.DeepClone();
            configJson["quantization_config"] = format.QuantizationConfig(unquantizedTensors, unquantizedLinears, sourceDType);
            AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), configJson.ToJsonString(Json.Indented) + "\n");
        });
        return new QuantizeReport(errors);
    }

    static IEnumerable<TensorToWrite> Produce(Checkpoint source, string name, bool quantize, ILinearQuantizer format,
        List<(string, double)> errors)
    {
        var info = source.Tensors.Get(name);
        var file = source.Tensors.FileOf(name);
        if (!quantize) return [new TensorToWrite(name, info.DType, info.Shape, file.GetBytes(name).ToArray())];
        if (info.Shape.Length != 2) throw new QzoException(
            $"{file.Path}: tensor '{name}' should be a matrix, has shape [{string.Join(", ", info.Shape)}]");
        var weight = source.Tensors.ReadFloat32(name);
        string prefix = name[..^".weight".Length];
        try
        {
            var (tensors, dequantized) = format.Quantize(prefix, weight, (int)info.Shape[0], (int)info.Shape[1], info.DType);
            errors.Add((prefix, QuantizeReport.RelativeError(weight, dequantized)));
            return tensors;
        }
        catch (QzoException e) { throw new QzoException($"{file.Path}: '{name}': {e.Message}", e); }
    }
}
