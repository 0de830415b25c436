using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Models;

/// <summary>
/// A Hugging Face checkpoint folder: config.json, safetensors (single or sharded), the quantization config
/// (config.json's `quantization_config`, or quantize_config.json), and the tokenizer files beside them.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    readonly ModelConfig? _config;

    Checkpoint(string directory, ModelConfig? config, IQuantizationConfig? quantization, CheckpointTensors tensors)
    {
        Directory = directory;
        _config = config;
        Quantization = quantization;
        Tensors = tensors;
    }

    public string Directory { get; }
    /// <summary>The causal LM's config; a component folder (<see cref="OpenComponent"/>) has none.</summary>
    public ModelConfig Config => _config ?? throw new InvalidOperationException($"{Directory}: a component folder has no causal-LM config");
    /// <summary>The quantization config (GPTQ, AQLM, bitsandbytes), or null for an unquantized checkpoint.</summary>
    public IQuantizationConfig? Quantization { get; }
    public GptqConfig? Gptq => Quantization as GptqConfig;
    public CheckpointTensors Tensors { get; }
    public bool IsQuantized => Quantization is not null;

    public static Checkpoint Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new QzoException($"{directory}: checkpoint folder not found");
        var configPath = Path.Combine(directory, "config.json");
        var reader = JsonConfigReader.Load(configPath);
        var config = ModelConfig.Parse(reader) with { GenerationEosTokenIds = ReadGenerationEos(directory) };
        var quantization = ReadQuantizationConfig(directory, reader);
        var tensors = CheckpointTensors.Open(directory);
        return new Checkpoint(directory, config, quantization, tensors);
    }

    /// <summary>
    /// A model folder whose config.json is not a causal LM's (a diffusers component such as vae/ or transformer/, a text
    /// encoder): its tensors and quantization config; the caller reads config.json itself.
    /// </summary>
    public static Checkpoint OpenComponent(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new QzoException($"{directory}: model folder not found");
        var reader = JsonConfigReader.Load(Path.Combine(directory, "config.json"));
        return new Checkpoint(directory, null, ReadQuantizationConfig(directory, reader), CheckpointTensors.Open(directory));
    }

    static int[]? ReadGenerationEos(string directory)
    {
        var path = Path.Combine(directory, "generation_config.json");
        if (!File.Exists(path)) return null;
        var reader = JsonConfigReader.Load(path);
        return reader.Has("eos_token_id") ? reader.IntList("eos_token_id") : null;
    }

    static IQuantizationConfig? ReadQuantizationConfig(string directory, JsonConfigReader config)
    {
        if (config.Has("quantization_config"))
        {
            var json = config.Json["quantization_config"] as JsonObject ?? throw config.Invalid("quantization_config", "an object");
            return QuantizationConfigs.Parse(json, config.SourceFile);
        }
        var separate = Path.Combine(directory, "quantize_config.json");
        if (File.Exists(separate)) return GptqConfig.Parse(JsonConfigReader.Load(separate).Json, separate);
        return null;
    }

    public void Dispose() => Tensors.Dispose();
}
