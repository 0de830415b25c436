using System.Text.Json.Nodes;
using Qzo.Diffusion.Sd3;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Diffusion.Pipelines;

/// <summary>
/// `qzo inspect` of a diffusers pipeline folder (model_index.json) or of one of its component folders (config.json
/// with diffusers' _class_name, or a CLIP / T5 text encoder's model_type): each component's class, dtype, parameter
/// count, bytes on disk and quantization, and the transformer's key config.
/// </summary>
public sealed record PipelineInspection(string Root, string? PipelineClass, IReadOnlyList<ComponentSummary> Components,
                                        IReadOnlyList<(string Key, string Value)> TransformerConfig)
{
    static readonly string[] EncoderModelTypes = ["clip_text_model", "t5"];

    /// <summary>A pipeline folder, or a component folder that is not a language-model checkpoint.</summary>
    public static bool Handles(string folder) => Sd3PipelineFolder.IsPipeline(folder) || IsComponent(folder);

    public static PipelineInspection Of(string folder)
    {
        if (!Sd3PipelineFolder.IsPipeline(folder))
        {
            if (!IsComponent(folder)) throw new QzoException($"{folder}: neither a diffusers pipeline (model_index.json) nor a component");
            var config = JsonConfigReader.Load(Path.Combine(folder, "config.json"));
            string className = config.String("_class_name") ?? ClassOfEncoder(config);
            var single = Summarize(Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)), null, className, folder);
            return new(folder, null, [single], className == Sd3TransformerConfig.ClassName ? KeyConfig(folder) : []);
        }
        var pipeline = Sd3PipelineFolder.Open(folder); // refuses what Qzo cannot read
        string index = Path.Combine(folder, Sd3PipelineFolder.IndexFileName);
        var json = StrictJson.Parse(File.ReadAllText(index), index)!.AsObject();
        var components = new List<ComponentSummary>();
        foreach (var (key, value) in json.Where(p => !p.Key.StartsWith('_')))
        {
            if (value is not JsonArray { Count: 2 } entry) continue;
            string? library = entry[0]?.GetValue<string>(), className = entry[1]?.GetValue<string>();
            components.Add(className is null
                ? new ComponentSummary(key, null, "none", null, null, 0, null, 0)
                : Summarize(key, library, className, Path.Combine(folder, key)));
        }
        return new(folder, json["_class_name"]?.GetValue<string>(), components, KeyConfig(pipeline.Transformer));
    }

    static bool IsComponent(string folder)
    {
        string path = Path.Combine(folder, "config.json");
        if (!File.Exists(path)) return false;
        try
        {
            var config = JsonConfigReader.Load(path);
            return config.Has("_class_name") || EncoderModelTypes.Contains(config.String("model_type"));
        }
        catch (QzoException) { return false; }
    }

    static string ClassOfEncoder(JsonConfigReader config) =>
        (config.Json["architectures"] as JsonArray)?.FirstOrDefault()?.GetValue<string>() ?? config.String("model_type")!;

    static ComponentSummary Summarize(string key, string? library, string className, string folder)
    {
        long bytes = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length)
            : 0;
        bool hasWeights = File.Exists(Path.Combine(folder, "config.json")) &&
                          Directory.EnumerateFiles(folder, "*.safetensors").Any();
        if (!hasWeights) return new ComponentSummary(key, library, className, null, null, bytes, null, 0);
        using var checkpoint = Checkpoint.OpenComponent(folder);
        var tensors = checkpoint.Tensors;
        var roles = tensors.Names.ToDictionary(n => n, n => checkpoint.Quantization?.RoleOf(tensors, n) ?? QuantizedTensorRole.Unquantized);
        var dense = tensors.Names.Where(n => roles[n] == QuantizedTensorRole.Unquantized).Select(tensors.Get).ToList();
        long parameters = dense.Sum(t => t.ElementCount) + (checkpoint.Quantization?.QuantizedWeightCount(tensors) ?? 0);
        string dtypes = string.Join(" + ", dense.GroupBy(t => t.DType).OrderByDescending(g => g.Sum(t => t.ByteLength))
                                                 .Select(g => g.Key.Name()));
        int quantizedLinears = checkpoint.Quantization is null ? 0 : QuantizedLinearCount(checkpoint);
        return new ComponentSummary(key, library, className, dtypes.Length == 0 ? null : dtypes, parameters, bytes,
                                    MethodName(checkpoint.Quantization), quantizedLinears);
    }

    /// <summary>dense, bitsandbytes nf4 / fp4 (with double quant), or the method's name (gptq, aqlm).</summary>
    public static string MethodName(IQuantizationConfig? quantization) => quantization switch
    {
        null => "dense",
        BitsAndBytesConfig b => $"bitsandbytes {FourBitTypes.Name(b.QuantType)}{(b.DoubleQuant ? " (double quant)" : "")}",
        var q => q.QuantMethod,
    };

    /// <summary>Linears with a packed or code tensor: bitsandbytes' quant_state, GPTQ's qweight, AQLM's codes.</summary>
    static int QuantizedLinearCount(Checkpoint checkpoint) => checkpoint.Tensors.Names.Count(n =>
        n.Contains(Bnb4BitQuantState.TensorInfix, StringComparison.Ordinal) ||
        n.EndsWith(".qweight", StringComparison.Ordinal) || n.EndsWith(".codes", StringComparison.Ordinal));

    static IReadOnlyList<(string, string)> KeyConfig(string transformer)
    {
        var c = Sd3TransformerConfig.Load(Path.Combine(transformer, "config.json"));
        return
        [
            ("num_layers", $"{c.Layers}"),
            ("attention_head_dim × num_attention_heads", $"{c.HeadDim} × {c.Heads} (width {c.InnerDim})"),
            ("joint_attention_dim / caption_projection_dim", $"{c.JointAttentionDim} / {c.CaptionProjectionDim}"),
            ("pooled_projection_dim", $"{c.PooledProjectionDim}"),
            ("in_channels / out_channels / patch_size", $"{c.InChannels} / {c.OutChannels} / {c.PatchSize}"),
            ("sample_size / pos_embed_max_size", $"{c.SampleSize} / {c.PosEmbedMaxSize}"),
            ("qk_norm", c.QkRmsNorm ? "rms_norm" : "none"),
            ("dual_attention_layers", c.DualAttentionLayers.Count == 0 ? "none" : string.Join(", ", c.DualAttentionLayers)),
        ];
    }
}
