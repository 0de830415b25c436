using System.Text.Json.Nodes;
using Qzo.Models.Architectures.LlamaLayout;

namespace Qzo.Models.Architectures.Llama;

/// <summary>LlamaForCausalLM: optional biases on every attention linear (`attention_bias`) or MLP linear (`mlp_bias`), no window.</summary>
sealed class LlamaArchitecture : LlamaLayoutArchitecture
{
    public override string Name => "Llama";
    public override string ModelType => "llama";
    public override string ClassName => "LlamaForCausalLM";

    protected internal override (bool Qkv, bool Output, bool Mlp) Biases(JsonConfigReader c)
    {
        bool attention = c.Bool("attention_bias", false);
        return (attention, attention, c.Bool("mlp_bias", false));
    }

    protected override void AddConfigKeys(JsonObject config, SynthOptions o)
    {
        config["attention_bias"] = false; config["mlp_bias"] = false; config["pretraining_tp"] = 1;
    }
}
