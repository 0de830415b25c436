using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Models;

/// <summary>Small checkpoints made with the project's own synth and quantize, for tests.</summary>
static class TinyModels
{
    /// <summary>A bf16 Llama with GQA and llama3 RoPE scaling.</summary>
    public static string Dense(TempFolder folder, bool tied = false, string name = "dense")
    {
        string path = folder[name];
        ModelSynthesizer.Write(path, new SynthOptions
        {
            Hidden = 64, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 96, Vocab = 320, Seed = 7, TieEmbeddings = tied,
        });
        var configPath = Path.Combine(path, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["rope_parameters"] = new JsonObject
        {
            ["rope_type"] = "llama3", ["rope_theta"] = 500000.0, ["factor"] = 8.0, ["low_freq_factor"] = 1.0,
            ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 8192,
        };
        File.WriteAllText(configPath, config.ToJsonString());
        return path;
    }

    /// <summary>The dense model above, RTN-quantized to GPTQ.</summary>
    public static string Gptq(TempFolder folder, int bits = 4, int groupSize = 32, bool tied = false, bool sym = true)
    {
        string dense = Dense(folder, tied, $"dense-for-{bits}-{groupSize}-{tied}-{sym}");
        string path = folder[$"gptq-{bits}-{groupSize}-{tied}-{sym}"];
        var format = sym ? GptqCheckpointFormat.Gptq : GptqCheckpointFormat.GptqV2;
        CheckpointQuantizer.QuantizeRtn(dense, path, GptqConfig.Create(bits, groupSize, sym, format));
        return path;
    }

    /// <summary>
    /// The dense model above in a bitsandbytes 4-bit layout; linears named by <paramref name="keepDense"/> stay unquantized.
    /// </summary>
    public static string Bnb4Bit(TempFolder folder, FourBitType type = FourBitType.Nf4, bool doubleQuant = false, int blockSize = 64,
                                 Func<string, bool>? keepDense = null, string name = "")
    {
        string dense = Dense(folder, name: $"dense-for-{type}-{doubleQuant}-{blockSize}{name}");
        string path = folder[$"bnb-{type}-{doubleQuant}-{blockSize}{name}"];
        CheckpointQuantizer.Quantize(dense, path, new Bnb4BitCheckpointFormat(type, blockSize, doubleQuant), keepDense: keepDense);
        return path;
    }

    /// <summary>The dense model above in the AQLM layout.</summary>
    public static string Aqlm(TempFolder folder, string scheme = "2x8", Func<string, bool>? keepDense = null, string name = "")
    {
        string dense = Dense(folder, name: $"dense-for-aqlm-{scheme}{name}");
        string path = folder[$"aqlm-{scheme}{name}"];
        CheckpointQuantizer.Quantize(dense, path,
            new AqlmCheckpointFormat(AqlmScheme.Parse(scheme), new AqlmQuantizerOptions(KMeansIterations: 2, Rounds: 1)),
            keepDense: keepDense);
        return path;
    }

    /// <summary>
    /// A dense model of another architecture: Mistral (window 4, GQA), Qwen2 (q/k/v biases, tied), OPT (tied, project_in/out) or
    /// Qwen3 (q/k norms, head_dim 24, tied) or Gemma 3 (head_dim 24, window 4 on the local layers, untied).
    /// </summary>
    public static string Dense(TempFolder folder, IArchitecture architecture, string name, Func<SynthOptions, SynthOptions>? adjust = null)
    {
        string path = folder[name];
        var options = new SynthOptions
        {
            Architecture = architecture, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 96, Vocab = 320, Seed = 11, MaxPositions = 64,
            KvHeads = architecture == ArchitectureRegistry.Opt ? null : 2,
            SlidingWindow = architecture == ArchitectureRegistry.Mistral || architecture == ArchitectureRegistry.Gemma3 ? 4 : null,
            // an explicit head_dim ≠ hidden / heads
            HeadDim = architecture == ArchitectureRegistry.Qwen3 || architecture == ArchitectureRegistry.Gemma3 ? 24 : null,
            TieEmbeddings = architecture == ArchitectureRegistry.Qwen2 || architecture == ArchitectureRegistry.Opt
                || architecture == ArchitectureRegistry.Qwen3,
            WordEmbedDim = architecture == ArchitectureRegistry.Opt ? 48 : null,
        };
        ModelSynthesizer.Write(path, adjust is null ? options : adjust(options));
        return path;
    }

    /// <summary>A checkpoint RTN-quantized to GPTQ.</summary>
    public static string Quantized(TempFolder folder, string dense, int bits = 4, int groupSize = 32)
    {
        string path = dense + $"-gptq{bits}";
        CheckpointQuantizer.QuantizeRtn(dense, path, GptqConfig.Create(bits, groupSize, sym: true, GptqCheckpointFormat.Gptq));
        return path;
    }

    /// <summary>Edits a checkpoint's config.json in place.</summary>
    public static void EditConfig(string checkpoint, Action<JsonObject> edit) => EditJson(Path.Combine(checkpoint, "config.json"), edit);

    /// <summary>Edits a JSON object file in place.</summary>
    public static void EditJson(string path, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>Rewrites a single-file checkpoint without the tensors <paramref name="drop"/> selects.</summary>
    public static void DropTensors(string checkpoint, Func<string, bool> drop)
    {
        string path = Path.Combine(checkpoint, "model.safetensors");
        List<TensorToWrite> kept;
        using (var file = SafetensorsFile.Open(path))
            kept = file.Tensors.Where(t => !drop(t.Name))
                .Select(t => new TensorToWrite(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray())).ToList();
        SafetensorsWriter.Write(path, kept, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>Sequences padded on the left (pad id 0), every real token after the first scored.</summary>
    public static TokenBatch PadLeft(IReadOnlyList<int[]> sequences)
    {
        int seq = sequences.Max(s => s.Length), n = sequences.Count * seq;
        var ids = new int[n]; var mask = new int[n]; var labels = Enumerable.Repeat(TokenBatch.Ignore, n).ToArray();
        for (int b = 0; b < sequences.Count; b++)
        {
            int first = seq - sequences[b].Length;
            for (int t = 0; t < sequences[b].Length; t++)
            {
                ids[b * seq + first + t] = sequences[b][t];
                mask[b * seq + first + t] = 1;
                if (t > 0) labels[b * seq + first + t] = sequences[b][t];
            }
        }
        return new TokenBatch { Batch = sequences.Count, Seq = seq, Ids = ids, AttentionMask = mask, Labels = labels };
    }

    public static int[] RandomIds(int length, int vocab, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(3, vocab)).ToArray();
    }
}
