using System.Text.Json.Nodes;
using Qzo.Models;
using Qzo.Quantization;

namespace Qzo.Tests.Models;

/// <summary>Small checkpoints made with the project's own synth and quantize, for tests.</summary>
static class TinyModels
{
    /// <summary>A bf16 Llama with GQA and llama3 RoPE scaling.</summary>
    public static string Dense(TempFolder folder, bool tied = false, string name = "dense")
    {
        string path = folder[name];
        LlamaSynthesizer.Write(path, new SynthOptions
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

    public static int[] RandomIds(int length, int vocab, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(3, vocab)).ToArray();
    }
}
