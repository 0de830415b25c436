using System.Text.Json.Nodes;

namespace Qzo.Models.Architectures.LlamaLayout;

/// <summary>
/// A family whose decoder layer is a <see cref="LlamaLayer"/> (pre-RMSNorm attention with RoPE, a SwiGLU MLP): config
/// reading, loading, the layer-by-layer runner and synthesis are shared here. A family says only what differs: its names,
/// which linears have biases, how its layers' sliding windows are given, and its own config.json keys.
/// </summary>
abstract class LlamaLayoutArchitecture : IArchitecture, IArchitectureSynthesis
{
    public abstract string Name { get; }
    public abstract string ModelType { get; }
    public abstract string ClassName { get; }

    public override string ToString() => Name;

    /// <summary>Which linears have biases, from config.json (none by default).</summary>
    protected internal virtual (bool Qkv, bool Output, bool Mlp) Biases(JsonConfigReader c) => (false, false, false);

    /// <summary>Each layer's sliding window from config.json (see <see cref="SlidingWindows"/>); null: none anywhere.</summary>
    protected internal virtual int[]? Windows(JsonConfigReader c, int layers) => null;

    /// <summary>head_dim when config.json gives none.</summary>
    protected internal virtual int DefaultHeadDim(int hidden, int heads) => heads > 0 ? hidden / heads : 0;

    /// <summary>Whether q and k are RMS-normalized per head before RoPE (see <see cref="LlamaConfig.QkNorm"/>).</summary>
    protected internal virtual bool HasQkNorm => false;

    public ModelConfig ParseConfig(JsonConfigReader config) => LlamaConfig.FromJson(config, this);

    public CausalLanguageModel Build(ParameterLoader loader, ModelConfig config, IProgress<double>? progress) =>
        LlamaLoader.Build(loader, (LlamaConfig)config, progress);

    public ActivationShape ActivationShape(ModelConfig config) => LlamaModel.ActivationShapeOf((LlamaConfig)config);

    public ILayerwiseRunner OpenLayerwise(LayerwiseDecoder decoder, int maxSeq) =>
        new LlamaLayerwiseRunner(decoder, (LlamaConfig)decoder.Config, maxSeq);

    public IArchitectureSynthesis Synthesis => this;

    // Synthesis.

    /// <summary>Whether `--sliding-window` applies (it sets every layer's window).</summary>
    protected virtual bool SynthesizesSlidingWindow => false;

    /// <summary>Whether the synthesized q/k/v projections have biases.</summary>
    protected virtual bool SynthesizesQkvBias => false;

    /// <summary>The family's own config.json keys besides the shared ones.</summary>
    protected abstract void AddConfigKeys(JsonObject config, SynthOptions o);

    public int KvHeads(SynthOptions o) => o.KvHeads ?? o.Heads;
    public int HeadDim(SynthOptions o) => o.HeadDim ?? o.Hidden / o.Heads;

    /// <summary>Llama's rule: 8/3 of hidden, rounded up to a multiple of 32.</summary>
    public double DefaultIntermediate(double hidden) => Math.Ceiling(Math.Floor(8.0 * hidden / 3) / 32) * 32;

    public void Validate(SynthOptions o) => LlamaLayoutSynthesis.Validate(o, SynthesizesSlidingWindow);

    public JsonObject Config(SynthOptions o)
    {
        var config = LlamaLayoutSynthesis.Config(o, this);
        AddConfigKeys(config, o);
        return SynthValues.Sorted(config);
    }

    public IEnumerable<SynthTensor> Tensors(SynthOptions o) => LlamaLayoutSynthesis.Tensors(o, SynthesizesQkvBias, HasQkNorm);

    public IEnumerable<SynthTensorGroup> Footprint(SynthOptions o) => LlamaLayoutSynthesis.Footprint(o, SynthesizesQkvBias, HasQkNorm);
}
