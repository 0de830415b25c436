using System.Text.Json.Nodes;
using static Qzo.Models.SynthValues;

namespace Qzo.Models.Architectures.Gemma3;

/// <summary>
/// Gemma 3's text models: Gemma3ForCausalLM (model_type gemma3_text) and the language model inside a
/// Gemma3ForConditionalGeneration checkpoint (model_type gemma3: its `text_config`, tensors under `language_model.model.`
/// or `model.language_model.`; the vision tower is ignored). See <see cref="Gemma3Model"/> for the forward pass.
/// </summary>
sealed class Gemma3Architecture : IArchitecture, IArchitectureSynthesis
{
    const string MultimodalModelType = "gemma3", MultimodalClassName = "Gemma3ForConditionalGeneration";

    public string Name => "Gemma3";
    public string ModelType => "gemma3_text";
    public string ClassName => "Gemma3ForCausalLM";
    public IReadOnlyList<(string ModelType, string ClassName)> Aliases => [(MultimodalModelType, MultimodalClassName)];

    public override string ToString() => Name;

    public ModelConfig ParseConfig(JsonConfigReader config)
    {
        if (config.String("model_type") != MultimodalModelType) return Gemma3ConfigReader.Read(config, this, tieDefault: true);
        var text = config.Json["text_config"] as JsonObject
            ?? throw new QzoException($"{config.SourceFile}: a {MultimodalClassName} config needs its 'text_config' object");
        // The wrapper's tie_word_embeddings (default true) decides, as Gemma3ForConditionalGeneration ties its lm_head.
        var textConfig = Gemma3ConfigReader.Read(new JsonConfigReader(text, $"{config.SourceFile} (text_config)"), this,
                                                 tieDefault: config.Bool("tie_word_embeddings", true));
        return textConfig with { TieWordEmbeddings = config.Bool("tie_word_embeddings", textConfig.TieWordEmbeddings), Json = config.Json };
    }

    public CausalLanguageModel Build(ParameterLoader loader, ModelConfig config, IProgress<double>? progress) =>
        Gemma3Loader.Build(loader, (Gemma3Config)config, progress);

    public ActivationShape ActivationShape(ModelConfig config) => Gemma3Model.ActivationShapeOf((Gemma3Config)config);

    public ILayerwiseRunner OpenLayerwise(LayerwiseDecoder decoder, int maxSeq) =>
        new Gemma3LayerwiseRunner(decoder, (Gemma3Config)decoder.Config, maxSeq);

    public IArchitectureSynthesis Synthesis => this;

    // Synthesis: released Gemma 3's shape (no soft-capping, query_pre_attn_scalar = head_dim), every 6th layer global and
    // the last one at least; norms near 0 (they scale by 1 + weight) but random, so that a test ignoring one would notice.

    public int KvHeads(SynthOptions o) => o.KvHeads ?? o.Heads;
    public int HeadDim(SynthOptions o) => o.HeadDim ?? o.Hidden / o.Heads;

    /// <summary>Llama's rule: 8/3 of hidden, rounded up to a multiple of 32.</summary>
    public double DefaultIntermediate(double hidden) => Math.Ceiling(Math.Floor(8.0 * hidden / 3) / 32) * 32;

    const int DefaultWindow = 512;

    /// <summary>The Llama layout's checks; --sliding-window (which they allow for Mistral only) is checked in Config.</summary>
    public void Validate(SynthOptions o) =>
        LlamaLayout.LlamaLayoutSynthesis.Validate(o with { SlidingWindow = null }, slidingWindow: false);

    static bool Global(SynthOptions o, int layer) => (layer + 1) % Math.Min(6, o.Layers) == 0;

    public JsonObject Config(SynthOptions o)
    {
        if (o.SlidingWindow is int w && w <= 0) throw new QzoException("--sliding-window must be positive");
        var layerTypes = Enumerable.Range(0, o.Layers).Select(i => (JsonNode?)(Global(o, i) ? "full_attention" : "sliding_attention"));
        return Sorted(new JsonObject
        {
            ["architectures"] = new JsonArray(ClassName), ["attention_bias"] = false, ["attention_dropout"] = 0.0,
            ["attn_logit_softcapping"] = null, ["bos_token_id"] = 1, ["dtype"] = DTypeName(o), ["eos_token_id"] = 2,
            ["final_logit_softcapping"] = null, ["head_dim"] = o.ResolvedHeadDim, ["hidden_activation"] = "gelu_pytorch_tanh",
            ["hidden_size"] = o.Hidden, ["initializer_range"] = 0.02, ["intermediate_size"] = o.ResolvedIntermediate,
            ["layer_types"] = new JsonArray(layerTypes.ToArray()), ["max_position_embeddings"] = o.MaxPositions, ["model_type"] = ModelType,
            ["num_attention_heads"] = o.Heads, ["num_hidden_layers"] = o.Layers, ["num_key_value_heads"] = o.ResolvedKvHeads,
            ["pad_token_id"] = 0, ["query_pre_attn_scalar"] = o.ResolvedHeadDim, ["rms_norm_eps"] = o.RmsNormEps,
            ["rope_parameters"] = new JsonObject
            {
                ["full_attention"] = new JsonObject { ["rope_theta"] = o.RopeTheta, ["rope_type"] = "default" },
                ["sliding_attention"] = new JsonObject { ["rope_theta"] = 10_000.0, ["rope_type"] = "default" },
            },
            ["sliding_window"] = o.SlidingWindow ?? DefaultWindow, ["tie_word_embeddings"] = o.TieEmbeddings,
            ["transformers_version"] = "5.17.0", ["use_bidirectional_attention"] = false, ["use_cache"] = true, ["vocab_size"] = o.Vocab,
        });
    }

    static readonly string[] LayerNorms =
        ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"];

    public IEnumerable<SynthTensor> Tensors(SynthOptions o)
    {
        int h = o.Hidden, headDim = o.ResolvedHeadDim, q = o.Heads * headDim, kv = o.ResolvedKvHeads * headDim, m = o.ResolvedIntermediate;
        yield return new("model.embed_tokens.weight", [o.Vocab, h], t => Embedding(o, t, o.Vocab, h));
        for (int i = 0; i < o.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            foreach (var norm in LayerNorms) yield return new(p + norm + ".weight", [h], t => Gaussian(o, t, h, 0.1f));
            foreach (var (name, outF, inF) in new[] { ("self_attn.q_proj", q, h), ("self_attn.k_proj", kv, h), ("self_attn.v_proj", kv, h),
                                                      ("self_attn.o_proj", h, q), ("mlp.gate_proj", m, h), ("mlp.up_proj", m, h),
                                                      ("mlp.down_proj", h, m) })
                yield return Weight(o, p + name, outF, inF);
            foreach (var name in new[] { "self_attn.q_norm.weight", "self_attn.k_norm.weight" })
                yield return new(p + name, [headDim], t => Gaussian(o, t, headDim, 0.1f));
        }
        yield return new("model.norm.weight", [h], t => Gaussian(o, t, h, 0.1f));
        if (!o.TieEmbeddings) yield return LmHead(o, h);
    }

    public IEnumerable<SynthTensorGroup> Footprint(SynthOptions o)
    {
        double h = o.Hidden, layers = o.Layers, vocab = o.Vocab, headDim = o.HeadDim ?? (double)(o.Hidden / o.Heads);
        double q = o.Heads * headDim, kv = o.ResolvedKvHeads * headDim, m = SynthFootprint.Intermediate(o);
        const string p = "model.layers.0.";
        var list = new List<SynthTensorGroup>
        {
            new("model.embed_tokens.weight", vocab, h, 1), new(p + "input_layernorm.weight", h, 1, 4 * layers),
            new(p + "self_attn.q_proj.weight", q, h, layers), new(p + "self_attn.k_proj.weight", kv, h, 2 * layers),
            new(p + "self_attn.o_proj.weight", h, q, layers), new(p + "mlp.gate_proj.weight", m, h, 3 * layers),
            new(p + "self_attn.q_norm.weight", headDim, 1, 2 * layers), new("model.norm.weight", h, 1, 1),
        };
        if (!o.TieEmbeddings) list.Add(new("lm_head.weight", vocab, h, 1));
        return list;
    }
}
