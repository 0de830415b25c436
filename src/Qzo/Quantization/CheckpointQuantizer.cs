using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization.Gptq;

namespace Qzo.Quantization;

/// <summary>
/// Turns an unquantized checkpoint into the GPTQ layout (qweight, qzeros, scales, g_idx per decoder-layer
/// linear; embeddings, norms, biases, OPT's project_in/project_out and lm_head copied as they are, as GPTQModel
/// leaves them), with config.json's quantization_config and a
/// quantize_config.json, so any GPTQ loader reads it. Output is written shard by shard (≤ maxShardBytes each).
/// </summary>
public static partial class CheckpointQuantizer
{
    /// <summary>
    /// The Llama layout's (Llama, Mistral, Qwen2) and Gemma 3's decoder-layer linears (also inside a multimodal checkpoint), and OPT's.
    /// </summary>
    [GeneratedRegex(@"^(language_model\.)?model\.(language_model\.)?"
                    + @"(layers\.\d+\.(self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)"
                    + @"|decoder\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|fc1|fc2))\.weight$")]
    private static partial Regex DecoderLinearWeight();

    public static bool IsQuantizable(string tensorName) => DecoderLinearWeight().IsMatch(tensorName);

    public static void QuantizeRtn(string input, string output, GptqConfig config, bool overwrite = false,
                                   IProgress<double>? progress = null, long maxShardBytes = 2L << 30)
    {
        using var source = Checkpoint.Open(input);
        if (source.IsQuantized) throw new QzoException($"{input}: the checkpoint is already quantized");
        var plan = source.Tensors.Names.SelectMany(name => Outputs(source, name, config)).ToList();
        var shards = Shard(plan, maxShardBytes);
        CheckBudget(source, output, plan.Sum(o => o.Bytes), shards.Max(s => s.Sum(o => o.Bytes)));

        OutputFolder.Write(output, overwrite, folder =>
        {
            var skip = new HashSet<string>(StringComparer.Ordinal) { "config.json", "model.safetensors.index.json",
                "quantize_config.json" };
            foreach (var file in source.Tensors.Files) skip.Add(Path.GetRelativePath(input, file.Path));
            OutputFolder.CopyContents(input, folder, skip.Contains);

            var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
            int done = 0;
            for (int s = 0; s < shards.Count; s++)
            {
                string fileName = shards.Count == 1 ? "model.safetensors" : $"model-{s + 1:D5}-of-{shards.Count:D5}.safetensors";
                var tensors = new List<TensorToWrite>();
                foreach (var group in shards[s].GroupBy(o => o.Source))
                {
                    tensors.AddRange(Produce(source, group.Key, config));
                    progress?.Report((double)++done / source.Tensors.Names.Count);
                }
                SafetensorsWriter.Write(Path.Combine(folder, fileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
                foreach (var t in tensors) weightMap[t.Name] = fileName;
            }
            if (shards.Count > 1) ShardedIndexWriter.Write(folder, weightMap, plan.Sum(o => o.Bytes));

            var configJson = (JsonObject)source.Config.Json!.DeepClone();
            configJson["quantization_config"] = config.ToJson();
            AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), configJson.ToJsonString(Json.Indented) + "\n");
            AtomicFile.WriteAllText(Path.Combine(folder, "quantize_config.json"), config.ToJson().ToJsonString(Json.Indented) + "\n");
        });
    }

    sealed record PlannedOutput(string Source, string Name, long Bytes);

    static IEnumerable<PlannedOutput> Outputs(Checkpoint source, string name, GptqConfig config)
    {
        var info = source.Tensors.Get(name);
        if (!IsQuantizable(name)) { yield return new(name, name, info.ByteLength); yield break; }
        long outF = info.Shape[0], inF = info.Shape[1];
        long groups = (inF + config.EffectiveGroupSize((int)inF) - 1) / config.EffectiveGroupSize((int)inF);
        string prefix = name[..^".weight".Length];
        yield return new(name, prefix + ".qweight", inF * config.Bits / 32 * outF * 4);
        yield return new(name, prefix + ".qzeros", groups * outF * config.Bits / 32 * 4);
        yield return new(name, prefix + ".scales", groups * outF * 2);
        yield return new(name, prefix + ".g_idx", inF * 4);
    }

    static List<List<PlannedOutput>> Shard(List<PlannedOutput> plan, long maxBytes)
    {
        var shards = new List<List<PlannedOutput>> { new() };
        long size = 0;
        foreach (var group in plan.GroupBy(o => o.Source))
        {
            long bytes = group.Sum(o => o.Bytes);
            if (size > 0 && size + bytes > maxBytes) { shards.Add(new()); size = 0; }
            shards[^1].AddRange(group);
            size += bytes;
        }
        return shards;
    }

    static IEnumerable<TensorToWrite> Produce(Checkpoint source, string name, GptqConfig config)
    {
        var info = source.Tensors.Get(name);
        if (!IsQuantizable(name))
        {
            var file = source.Tensors.FileOf(name);
            return [new TensorToWrite(name, info.DType, info.Shape, file.GetBytes(name).ToArray())];
        }
        if (info.Shape.Length != 2) throw new QzoException(
            $"{source.Tensors.FileOf(name).Path}: tensor '{name}' should be a matrix, has shape [{string.Join(", ", info.Shape)}]");
        int outF = (int)info.Shape[0], inF = (int)info.Shape[1];
        if (inF * config.Bits % 32 != 0 || outF * config.Bits % 32 != 0)
            throw new QzoException(
                $"{source.Tensors.FileOf(name).Path}: '{name}' is [{outF}, {inF}], which {config.Bits}-bit GPTQ cannot pack into 32-bit " +
                "words");
        var q = RtnQuantizer.Quantize(source.Tensors.ReadFloat32(name), outF, inF, config);
        string prefix = name[..^".weight".Length];
        return
        [
            new TensorToWrite(prefix + ".qweight", DType.I32, [inF * config.Bits / 32, outF], Bytes(q.QWeight)),
            new TensorToWrite(prefix + ".qzeros", DType.I32, [q.Groups, outF * config.Bits / 32], Bytes(q.QZeros)),
            new TensorToWrite(prefix + ".scales", DType.F16, [q.Groups, outF], Bytes(q.Scales)),
            new TensorToWrite(prefix + ".g_idx", DType.I32, [inF], Bytes(q.GIdx)),
        ];
    }

    static byte[] Bytes<T>(T[] values) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
