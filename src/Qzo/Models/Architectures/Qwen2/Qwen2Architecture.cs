using System.Text.Json.Nodes;
using Qzo.Models.Architectures.LlamaLayout;

namespace Qzo.Models.Architectures.Qwen2;

/// <summary>
/// Qwen2ForCausalLM: the Llama layout with q/k/v biases (always), and a sliding window only with `use_sliding_window`,
/// on the layers `layer_types` or `max_window_layers` say.
/// </summary>
sealed class Qwen2Architecture : LlamaLayoutArchitecture
{
    public override string Name => "Qwen2";
    public override string ModelType => "qwen2";
    public override string ClassName => "Qwen2ForCausalLM";

    protected internal override (bool Qkv, bool Output, bool Mlp) Biases(JsonConfigReader c) => (true, false, false);

    protected internal override int[]? Windows(JsonConfigReader c, int layers) => SlidingWindows.ByLayerType(c, layers);

    protected override bool SynthesizesQkvBias => true;

    protected override void AddConfigKeys(JsonObject config, SynthOptions o)
    {
        config["use_sliding_window"] = false; config["sliding_window"] = null; config["max_window_layers"] = o.Layers;
    }
}
