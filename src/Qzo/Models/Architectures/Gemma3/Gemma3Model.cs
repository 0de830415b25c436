using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models.Architectures.Gemma3;

/// <summary>
/// Gemma 3's forward pass as transformers' modeling_gemma3 computes it: embed · √hidden (the factor rounded to the compute
/// type) → for each layer [x += N_post_attn(o_proj(attn(rope(N_q(q)), rope(N_k(k)), v))) of N_in(x);
/// x += N_post_ff(down(gelu_tanh(gate(n)) · up(n))) with n = N_pre_ff(x)] → final norm → lm_head (→ soft cap). Every N is
/// an RMSNorm with (1 + weight) in fp32; attention scores are scaled by query_pre_attn_scalar^−½ (never soft-capped: see
/// <see cref="Gemma3ConfigReader"/>); local layers attend within the sliding window with the local RoPE, global layers over everything with
/// the global RoPE. Positions as in the Llama layout (0..T−1 for a whole sequence, real tokens only when generating).
/// </summary>
public sealed class Gemma3Model : DecoderStackModel<Gemma3Layer>
{
    readonly Gemma3RopeTables _rope;

    internal Gemma3Model(Gemma3Config config, IBackend backend, ModelPart part, Parameter? embedding, IReadOnlyList<Gemma3Layer> layers,
                         Parameter? finalNorm, ILinear? lmHead, IReadOnlyList<string> unusedTensors)
        : base(config, backend, part, embedding, layers, finalNorm, lmHead,
               config.FinalSoftcap is float cap && lmHead is not null ? new SoftcappedHead(lmHead, cap) : lmHead, unusedTensors)
    {
        Config = config;
        _rope = new Gemma3RopeTables(backend, config);
    }

    public new Gemma3Config Config { get; }
    private protected override ActivationShape Shape => ActivationShapeOf(Config);

    internal static ActivationShape ActivationShapeOf(Gemma3Config c) =>
        new(c.HiddenSize, c.Heads * c.HeadDim, c.KvHeads * c.HeadDim, c.IntermediateSize, GatedMlp: true, c.HiddenSize, c.VocabSize);

    /// <summary>√hidden as transformers multiplies the embeddings by it: an fp32 factor cast to the weights' (compute) type.</summary>
    internal static float EmbeddingScale(Gemma3Config c, DType computeType)
    {
        float scale = (float)Math.Sqrt(c.HiddenSize);
        return computeType == DType.BF16 ? BFloat16.ToSingle(BFloat16.FromSingle(scale)) : scale;
    }

    private protected override void BeginPass(DecoderPass pass, ActivationBuffers a)
    {
        Backend.Upload<int>(a.Positions, pass.Positions.Select(p => Math.Max(p, 0)).ToArray()); // padding: any row of the tables
        _rope.Ensure(Math.Max(pass.Positions.Max() + 1, 1));
    }

    private protected override void Embed(DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        var b = Backend;
        int n = pass.Tokens, h = Config.HiddenSize;
        b.EmbeddingGather(context.Resolve(Embedding!), a.Ids, a.X, n, h);
        b.ScaleInPlace(a.X, EmbeddingScale(Config, b.ComputeType), (long)n * h);
    }

    private protected override void RunDecoderLayer(int layer, DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        var c = Config;
        var (cos, sin) = _rope.For(layer);
        RunLayer(c, Layer(layer), pass.Tokens, a, context, cos, sin,
                 () => Attend(pass, a, layer, c.Heads, c.KvHeads, c.HeadDim, c.AttentionWindow(layer), c.AttentionScale));
    }

    private protected override DeviceTensor Finish(DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        var c = Config;
        Backend.RmsNormOnePlusWeight(a.X, context.ResolveVector(FinalNorm!), a.Normed, pass.Tokens, c.HiddenSize, c.RmsNormEps);
        return a.Normed;
    }

    /// <summary>
    /// One decoder layer over <c>a.X</c> [n, hidden], in place; <paramref name="attend"/> turns <c>a.Q</c>/<c>a.K</c>/<c>a.V</c>
    /// into <c>a.Attention</c>. The sublayers' outputs pass through <c>a.Normed</c>, free once q, k, v and the MLP's inputs exist.
    /// </summary>
    internal static void RunLayer(Gemma3Config c, Gemma3Layer layer, int n, ActivationBuffers a, ForwardContext context,
                                  DeviceTensor ropeCos, DeviceTensor ropeSin, Action attend)
    {
        var b = context.Backend;
        int h = c.HiddenSize;
        b.RmsNormOnePlusWeight(a.X, context.ResolveVector(layer.InputNorm), a.Normed, n, h, c.RmsNormEps);
        layer.Q.Forward(context, a.Normed, n, a.Q);
        layer.K.Forward(context, a.Normed, n, a.K);
        layer.V.Forward(context, a.Normed, n, a.V);
        b.RmsNormOnePlusWeight(a.Q, context.ResolveVector(layer.QNorm), a.Q, n * c.Heads, c.HeadDim, c.RmsNormEps);
        b.RmsNormOnePlusWeight(a.K, context.ResolveVector(layer.KNorm), a.K, n * c.KvHeads, c.HeadDim, c.RmsNormEps);
        b.ApplyRope(a.Q, a.Positions, ropeCos, ropeSin, n, c.Heads, c.HeadDim);
        b.ApplyRope(a.K, a.Positions, ropeCos, ropeSin, n, c.KvHeads, c.HeadDim);
        attend();
        layer.O.Forward(context, a.Attention, n, a.Normed);
        b.RmsNormOnePlusWeight(a.Normed, context.ResolveVector(layer.PostAttentionNorm), a.Normed, n, h, c.RmsNormEps);
        b.AddInPlace(a.X, a.Normed, (long)n * h);

        b.RmsNormOnePlusWeight(a.X, context.ResolveVector(layer.PreFeedforwardNorm), a.Normed, n, h, c.RmsNormEps);
        layer.Gate.Forward(context, a.Normed, n, a.Mlp);
        layer.Up.Forward(context, a.Normed, n, a.Up!);
        b.GeluTanhMulInPlace(a.Mlp, a.Up!, (long)n * c.IntermediateSize);
        layer.Down.Forward(context, a.Mlp, n, a.Normed);
        b.RmsNormOnePlusWeight(a.Normed, context.ResolveVector(layer.PostFeedforwardNorm), a.Normed, n, h, c.RmsNormEps);
        b.AddInPlace(a.X, a.Normed, (long)n * h);
    }

    public override void Dispose()
    {
        base.Dispose();
        _rope.Dispose();
    }
}
