using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Models;

/// <summary>
/// A Hugging Face checkpoint folder: config.json, safetensors (single or sharded), the quantization config
/// (config.json's `quantization_config`, or quantize_config.json), and the tokenizer files beside them. A component
/// of a diffusers pipeline (transformer/, vae/, a text encoder) opens with <see cref="OpenComponent"/>: its config is
/// read by the component's own family, so it has no language-model <see cref="Config"/>.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    readonly ModelConfig? _config;

    Checkpoint(string directory, JsonConfigReader configJson, ModelConfig? config, IQuantizationConfig? quantization,
               CheckpointTensors tensors)
    {
        Directory = directory;
        ConfigJson = configJson;
        _config = config;
        Quantization = quantization;
        Tensors = tensors;
    }

    public string Directory { get; }
    /// <summary>config.json as read.</summary>
    public JsonConfigReader ConfigJson { get; }
    public ModelConfig Config => _config
        ?? throw new InvalidOperationException($"{Directory} was opened as a pipeline component, not as a language model");
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
        return new Checkpoint(directory, reader, config, quantization, tensors);
    }

    /// <summary>
    /// A folder of weights and a config.json that a model family other than the language models reads (a diffusers
    /// component: SD3's transformer, VAE or text encoders); its `quantization_config` is read as for a checkpoint.
    /// </summary>
    public static Checkpoint OpenComponent(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new QzoException($"{directory}: component folder not found");
        var reader = JsonConfigReader.Load(Path.Combine(directory, "config.json"));
        var quantization = ReadQuantizationConfig(directory, reader);
        var tensors = CheckpointTensors.Open(directory);
        return new Checkpoint(directory, reader, null, quantization, tensors);
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
