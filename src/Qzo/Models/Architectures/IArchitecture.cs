using System.Text.Json.Nodes;

namespace Qzo.Models.Architectures;

/// <summary>
/// One model family, as transformers' model_type names it: how its config.json reads, how its checkpoint's tensors
/// make a model, how calibration runs it one layer at a time, and what `qzo synth` writes for it. Each family is one
/// folder beside this file, listed once in <see cref="ArchitectureRegistry"/>; nothing else switches on the family.
/// </summary>
public interface IArchitecture
{
    /// <summary>The family's name in messages, e.g. Llama, OPT.</summary>
    string Name { get; }

    /// <summary>config.json's `model_type`, e.g. llama.</summary>
    string ModelType { get; }

    /// <summary>The transformers class config.json's `architectures` names, e.g. LlamaForCausalLM.</summary>
    string ClassName { get; }

    /// <summary>Other (model_type, class) pairs whose checkpoints hold this family, e.g. a multimodal model's language model.</summary>
    IReadOnlyList<(string ModelType, string ClassName)> Aliases => [];

    /// <summary>The config.json keys of this family, validated (model_type and architectures are already checked).</summary>
    internal ModelConfig ParseConfig(JsonConfigReader config);

    /// <summary>The checkpoint's tensors, by the family's names, assembled into its model.</summary>
    internal CausalLanguageModel Build(ParameterLoader loader, ModelConfig config, IProgress<double>? progress);

    /// <summary>The activation widths one forward pass of <paramref name="config"/> needs.</summary>
    internal ActivationShape ActivationShape(ModelConfig config);

    /// <summary>The family's embedding and decoder layers, one at a time, for calibration (see <see cref="LayerwiseDecoder"/>).</summary>
    internal ILayerwiseRunner OpenLayerwise(LayerwiseDecoder decoder, int maxSeq);

    /// <summary>What `qzo synth` writes for this family: see <see cref="IArchitectureSynthesis"/>.</summary>
    internal IArchitectureSynthesis Synthesis { get; }
}
