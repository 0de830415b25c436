using System.Text.Json.Nodes;

namespace Qzo.Models.Architectures.Opt;

/// <summary>OPTForCausalLM: learned positions, LayerNorm, a ReLU MLP (see <see cref="OptConfig"/> and <see cref="OptModel"/>).</summary>
sealed class OptArchitecture : IArchitecture
{
    public string Name => "OPT";
    public string ModelType => "opt";
    public string ClassName => "OPTForCausalLM";

    public override string ToString() => Name;

    public ModelConfig ParseConfig(JsonConfigReader config) => OptConfig.FromJson(config);

    public CausalLanguageModel Build(ParameterLoader loader, ModelConfig config, IProgress<double>? progress) =>
        OptLoader.Build(loader, (OptConfig)config, progress);

    public ActivationShape ActivationShape(ModelConfig config) => OptModel.ActivationShapeOf((OptConfig)config);

    public ILayerwiseRunner OpenLayerwise(LayerwiseDecoder decoder, int maxSeq)
    {
        var config = (OptConfig)decoder.Config;
        if (maxSeq > config.MaxPositions)
            throw new QzoException(
                $"sequences of {maxSeq} tokens are longer than OPT's {config.MaxPositions} learned positions (max_position_embeddings)");
        return new OptLayerwiseRunner(decoder, config);
    }

    public IArchitectureSynthesis Synthesis { get; } = new OptSynthesis();
}
