using System.Text.Json.Nodes;
using Qzo.Models.Architectures.LlamaLayout;

namespace Qzo.Models.Architectures.Mistral;

/// <summary>MistralForCausalLM: the Llama layout without biases, with `sliding_window` (null = none) on every layer.</summary>
sealed class MistralArchitecture : LlamaLayoutArchitecture
{
    public override string Name => "Mistral";
    public override string ModelType => "mistral";
    public override string ClassName => "MistralForCausalLM";

    protected internal override int[]? Windows(JsonConfigReader c, int layers) => SlidingWindows.OnEveryLayer(c, layers);

    protected override bool SynthesizesSlidingWindow => true;

    protected override void AddConfigKeys(JsonObject config, SynthOptions o) => config["sliding_window"] = o.SlidingWindow;
}
