using Qzo.Compute;

namespace Qzo.Models.Architectures.Opt;

/// <summary>
/// OPTForCausalLM's forward pass as transformers computes it (models/opt/modeling_opt.py): token embeddings
/// (through project_in where word_embed_proj_dim ≠ hidden) plus learned positions, where a token's position is
/// the count of real tokens before it in its row (cumsum of the attention mask − 1; padding gets −1), read at
/// row position + 2; then per layer, with pre-LayerNorm,
/// [x += out_proj(attn(q, k, v of LN(x))); x += fc2(relu(fc1(LN(x))))], or with post-LayerNorm (opt-350m)
/// [x = LN(x + out_proj(attn(...x))); x = LN(x + fc2(relu(fc1(x))))]; the final LayerNorm (pre-LN only),
/// project_out, and lm_head. transformers scales q by head_dim^−½ before q·kᵀ; the backend scales the scores by the
/// same 1/√head_dim (equal up to fp32 rounding).
/// </summary>
public sealed class OptModel : CausalLanguageModel
{
    readonly ILinear? _projectOut;

    /// <param name="embedding">null on a pipeline rank that neither embeds nor ties lm_head to it; <paramref name="positions"/> and
    /// <paramref name="projectIn"/> are null off the input end, <paramref name="finalNorm"/>, <paramref name="projectOut"/> and
    /// <paramref name="lmHead"/> off the output end.</param>
    internal OptModel(OptConfig config, IBackend backend, ModelPart part, Parameter? embedding, Parameter? positions, ILinear? projectIn,
                      IReadOnlyList<OptLayer> layers, LayerNormParameters? finalNorm, ILinear? projectOut, ILinear? lmHead,
                      IReadOnlyList<string> unusedTensors)
        : base(config, backend, part, lmHead, unusedTensors)
    {
        if (layers.Count != part.LayerCount) throw new ArgumentException($"{layers.Count} layers for {part}", nameof(layers));
        Config = config;
        Embedding = embedding;
        PositionEmbedding = positions;
        ProjectIn = projectIn;
        Layers = layers;
        FinalNorm = finalNorm;
        _projectOut = projectOut;
    }

    public new OptConfig Config { get; }
    public Parameter? Embedding { get; }
    public Parameter? PositionEmbedding { get; }
    public ILinear? ProjectIn { get; }
    /// <summary>The part's decoder layers: <c>Layers[i]</c> is layer <c>Part.FirstLayer + i</c> of the model.</summary>
    public IReadOnlyList<OptLayer> Layers { get; }
    public LayerNormParameters? FinalNorm { get; }
    private protected override ILinear? ProjectOut => _projectOut;

    public override IEnumerable<ILinear> AllLinears =>
        new[] { ProjectIn }.OfType<ILinear>().Concat(Layers.SelectMany(l => l.Linears))
            .Concat(new[] { _projectOut, LmHead }.OfType<ILinear>());

    public override IEnumerable<Parameter> AllParameters =>
        new[] { Embedding, PositionEmbedding }.OfType<Parameter>()
            .Concat(Layers.SelectMany(l => l.NormParameters))
            .Concat(FinalNorm?.Parameters ?? [])
            .Concat(AllLinears.SelectMany(l => l.Parameters))
            .DistinctBy(p => p.Name);

    private protected override ActivationShape Shape => ActivationShapeOf(Config);

    internal static ActivationShape ActivationShapeOf(OptConfig c) =>
        new(c.HiddenSize, c.HiddenSize, c.HiddenSize, c.FfnDim, GatedMlp: false, c.WordEmbedProjDim, c.VocabSize);

    private protected override IEnumerable<Parameter> Tables => new[] { Embedding, PositionEmbedding }.OfType<Parameter>();

    public override int? PositionLimit => Config.MaxPositions;

    private protected override void BeginPass(DecoderPass pass, ActivationBuffers a)
    {
        int longest = pass.Positions.Max() + 1;
        if (longest > Config.MaxPositions)
            throw new QzoException(
                $"a sequence of {longest} tokens is longer than OPT's {Config.MaxPositions} learned positions (max_position_embeddings)");
    }

    private protected override void Embed(DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        var c = Config; var b = Backend;
        int n = pass.Tokens, h = c.HiddenSize;
        if (ProjectIn is null) b.EmbeddingGather(context.Resolve(Embedding!), a.Ids, a.X, n, h);
        else
        {
            b.EmbeddingGather(context.Resolve(Embedding!), a.Ids, a.Words!, n, c.WordEmbedProjDim);
            ProjectIn.Forward(context, a.Words!, n, a.X);
        }
        // Position p is row p + 2 of embed_positions (transformers' OPTLearnedPositionalEmbedding), so padding (−1) reads row 1.
        b.Upload<int>(a.Positions, pass.Positions.Select(p => p + OptConfig.PositionOffset).ToArray());
        b.EmbeddingGather(context.Resolve(PositionEmbedding!), a.Positions, a.Normed, n, h);
        b.AddInPlace(a.X, a.Normed, (long)n * h);
    }

    private protected override void RunDecoderLayer(int layer, DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        var c = Config;
        RunLayer(c, Layers[layer - Part.FirstLayer], pass.Tokens, a, context,
                 () => Attend(pass, a, layer, c.Heads, c.Heads, c.HeadDim, window: 0));
    }

    private protected override DeviceTensor Finish(DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        if (FinalNorm is null) return a.X;
        FinalNorm.Apply(context, a.X, a.Normed, pass.Tokens, Config.HiddenSize, OptConfig.LayerNormEps);
        return a.Normed;
    }

    /// <summary>
    /// One decoder layer over the hidden states in <c>a.X</c> [n, hidden], in place; <paramref name="attend"/> turns
    /// <c>a.Q</c>/<c>a.K</c>/<c>a.V</c> into <c>a.Attention</c> (over the whole sequence, or through the KV cache). The forward
    /// pass runs it for every layer; calibration-based quantizers run it one layer at a time.
    /// </summary>
    internal static void RunLayer(OptConfig c, OptLayer layer, int n, ActivationBuffers a, ForwardContext context, Action attend)
    {
        var b = context.Backend;
        int h = c.HiddenSize;
        var attentionInput = a.X;
        if (c.DoLayerNormBefore) { layer.AttentionNorm.Apply(context, a.X, a.Normed, n, h, OptConfig.LayerNormEps);
            attentionInput = a.Normed; }
        layer.Q.Forward(context, attentionInput, n, a.Q);
        layer.K.Forward(context, attentionInput, n, a.K);
        layer.V.Forward(context, attentionInput, n, a.V);
        attend();
        layer.Out.Forward(context, a.Attention, n, a.Normed);
        b.AddInPlace(a.X, a.Normed, (long)n * h);
        if (!c.DoLayerNormBefore) layer.AttentionNorm.Apply(context, a.X, a.X, n, h, OptConfig.LayerNormEps);

        var mlpInput = a.X;
        if (c.DoLayerNormBefore) { layer.MlpNorm.Apply(context, a.X, a.Normed, n, h, OptConfig.LayerNormEps); mlpInput = a.Normed; }
        layer.Fc1.Forward(context, mlpInput, n, a.Mlp);
        b.ReluInPlace(a.Mlp, (long)n * c.FfnDim);
        layer.Fc2.Forward(context, a.Mlp, n, a.Normed);
        b.AddInPlace(a.X, a.Normed, (long)n * h);
        if (!c.DoLayerNormBefore) layer.MlpNorm.Apply(context, a.X, a.X, n, h, OptConfig.LayerNormEps);
    }

    public override void Dispose()
    {
        base.Dispose();
        foreach (var layer in Layers) layer.Dispose();
        FinalNorm?.Dispose();
    }
}
