using System.Text.Json.Nodes;
using Qzo.Models.Architectures.LlamaLayout;

namespace Qzo.Models.Architectures.Qwen3;

/// <summary>
/// Qwen3ForCausalLM (transformers' models/qwen3): the Llama layout with a per-head RMSNorm of q and k before RoPE
/// (`self_attn.q_norm`, `self_attn.k_norm`, [head_dim], eps `rms_norm_eps`), head_dim 128 unless config.json says,
/// biases on q/k/v/o only with `attention_bias`, and Qwen2's sliding windows (`use_sliding_window`, `layer_types`,
/// `max_window_layers`, `sliding_window`).
/// </summary>
sealed class Qwen3Architecture : LlamaLayoutArchitecture
{
    public override string Name => "Qwen3";
    public override string ModelType => "qwen3";
    public override string ClassName => "Qwen3ForCausalLM";

    protected internal override bool HasQkNorm => true;

    /// <summary>Qwen3Config's default; it does not follow hidden_size / num_attention_heads.</summary>
    protected internal override int DefaultHeadDim(int hidden, int heads) => 128;

    protected internal override (bool Qkv, bool Output, bool Mlp) Biases(JsonConfigReader c)
    {
        bool attention = c.Bool("attention_bias", false);
        return (attention, attention, false);
    }

    protected internal override int[]? Windows(JsonConfigReader c, int layers) => SlidingWindows.ByLayerType(c, layers);

    protected override void AddConfigKeys(JsonObject config, SynthOptions o)
    {
        config["attention_bias"] = false;
        config["use_sliding_window"] = false; config["sliding_window"] = null; config["max_window_layers"] = o.Layers;
        config["layer_types"] = new JsonArray(Enumerable.Range(0, o.Layers).Select(_ => (JsonNode?)"full_attention").ToArray());
    }
}
