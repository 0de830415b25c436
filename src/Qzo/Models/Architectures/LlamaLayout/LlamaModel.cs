using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models.Architectures.LlamaLayout;

/// <summary>
/// The Llama forward pass as transformers computes it (docs/architecture.md §4), also Mistral's and Qwen2's: embed → for
/// each layer [x += o_proj(attn(rope(q), rope(k), v) of RMSNorm(x)); x += down(silu(gate(n))·up(n)) with
/// n = RMSNorm(x)] → final RMSNorm → lm_head. Qwen2's q/k/v biases live in the linears; Mistral's and Qwen2's
/// sliding windows are the per-layer <see cref="LlamaConfig.AttentionWindow"/>. A whole-sequence pass puts tokens at
/// positions 0..T−1 whatever the padding, as transformers' forward does when given no position_ids; generation
/// counts only a row's real tokens, as generate() does (position_ids from the attention mask).
/// </summary>
public sealed class LlamaModel : DecoderStackModel<LlamaLayer>
{
    readonly float[] _invFreq;
    DeviceTensor? _ropeCos, _ropeSin;
    int _ropePositions;

    internal LlamaModel(LlamaConfig config, IBackend backend, ModelPart part, Parameter? embedding, IReadOnlyList<LlamaLayer> layers,
                        Parameter? finalNorm, ILinear? lmHead, IReadOnlyList<string> unusedTensors)
        : base(config, backend, part, embedding, layers, finalNorm, lmHead, lmHead, unusedTensors)
    {
        Config = config;
        _invFreq = config.Rope.InverseFrequencies(config.HeadDim);
    }

    public new LlamaConfig Config { get; }
    private protected override ActivationShape Shape => ActivationShapeOf(Config);

    internal static ActivationShape ActivationShapeOf(LlamaConfig c) =>
        new(c.HiddenSize, c.Heads * c.HeadDim, c.KvHeads * c.HeadDim, c.IntermediateSize, GatedMlp: true, c.HiddenSize, c.VocabSize);

    private protected override void BeginPass(DecoderPass pass, ActivationBuffers a)
    {
        Backend.Upload<int>(a.Positions, pass.Positions.Select(p => Math.Max(p, 0)).ToArray()); // padding: any row of the tables
        EnsureRopeTables(Math.Max(pass.Positions.Max() + 1, 1));
    }

    private protected override void Embed(DecoderPass pass, ActivationBuffers a, ForwardContext context) =>
        Backend.EmbeddingGather(context.Resolve(Embedding!), a.Ids, a.X, pass.Tokens, Config.HiddenSize);

    private protected override void RunDecoderLayer(int layer, DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        var c = Config;
        RunLayer(c, Layer(layer), pass.Tokens, a, context, _ropeCos!, _ropeSin!,
                 () => Attend(pass, a, layer, c.Heads, c.KvHeads, c.HeadDim, c.AttentionWindow(layer)));
    }

    private protected override DeviceTensor Finish(DecoderPass pass, ActivationBuffers a, ForwardContext context)
    {
        Backend.RmsNorm(a.X, context.ResolveVector(FinalNorm!), a.Normed, pass.Tokens, Config.HiddenSize, Config.RmsNormEps);
        return a.Normed;
    }

    /// <summary>
    /// One decoder layer over the hidden states in <c>a.X</c> [n, hidden], in place. <c>a.Positions</c> holds each row's
    /// position; <paramref name="ropeCos"/>/<paramref name="ropeSin"/> are the tables of <see cref="RopeTables"/>;
    /// <paramref name="attend"/> turns <c>a.Q</c>/<c>a.K</c>/<c>a.V</c> into <c>a.Attention</c> (over the whole sequence, or
    /// through the KV cache). The forward pass runs it for every layer; calibration-based quantizers one layer at a time.
    /// </summary>
    internal static void RunLayer(LlamaConfig c, LlamaLayer layer, int n, ActivationBuffers a, ForwardContext context,
                                  DeviceTensor ropeCos, DeviceTensor ropeSin, Action attend)
    {
        var b = context.Backend;
        int h = c.HiddenSize;
        b.RmsNorm(a.X, context.ResolveVector(layer.InputNorm), a.Normed, n, h, c.RmsNormEps);
        layer.Q.Forward(context, a.Normed, n, a.Q);
        layer.K.Forward(context, a.Normed, n, a.K);
        layer.V.Forward(context, a.Normed, n, a.V);
        if (layer.QNorm is not null) b.RmsNorm(a.Q, context.ResolveVector(layer.QNorm), a.Q, n * c.Heads, c.HeadDim, c.RmsNormEps);
        if (layer.KNorm is not null) b.RmsNorm(a.K, context.ResolveVector(layer.KNorm), a.K, n * c.KvHeads, c.HeadDim, c.RmsNormEps);
        b.ApplyRope(a.Q, a.Positions, ropeCos, ropeSin, n, c.Heads, c.HeadDim);
        b.ApplyRope(a.K, a.Positions, ropeCos, ropeSin, n, c.KvHeads, c.HeadDim);
        attend();
        // The residual adds ride in the GEMMs (x += attention·Woᵀ, x += mlp·Wdᵀ): one rounding to bf16 instead of
        // two, and no separate pass over the hidden states.
        layer.O.Forward(context, a.Attention, n, a.X, accumulate: true);

        b.RmsNorm(a.X, context.ResolveVector(layer.PostAttentionNorm), a.Normed, n, h, c.RmsNormEps);
        layer.Gate.Forward(context, a.Normed, n, a.Mlp);
        layer.Up.Forward(context, a.Normed, n, a.Up!);
        b.SiluMulInPlace(a.Mlp, a.Up!, (long)n * c.IntermediateSize);
        layer.Down.Forward(context, a.Mlp, n, a.X, accumulate: true);
    }

    /// <summary>
    /// cos and sin of position·invFreq for positions 0..count−1, computed once on the host with an fp32 angle
    /// (as transformers does) and kept until a later position arrives.
    /// </summary>
    void EnsureRopeTables(int count)
    {
        if (count <= _ropePositions) return;
        int positions = Math.Max(count, 256);
        var (cos, sin) = RopeTables(_invFreq, positions);
        _ropeCos?.Dispose(); _ropeSin?.Dispose();
        _ropeCos = Backend.Allocate(DType.F32, cos.Length, MemoryCategory.Workspace);
        _ropeSin = Backend.Allocate(DType.F32, sin.Length, MemoryCategory.Workspace);
        Backend.Upload<float>(_ropeCos, cos);
        Backend.Upload<float>(_ropeSin, sin);
        _ropePositions = positions;
    }

    /// <summary>cos and sin of p·invFreq[i] (fp32 angle, as transformers computes it), [positions, invFreq.Length] each.</summary>
    internal static (float[] Cos, float[] Sin) RopeTables(float[] invFreq, int positions)
    {
        int half = invFreq.Length;
        var cos = new float[positions * half];
        var sin = new float[positions * half];
        for (int p = 0; p < positions; p++)
            for (int i = 0; i < half; i++)
            {
                float angle = p * invFreq[i];
                cos[p * half + i] = MathF.Cos(angle);
                sin[p * half + i] = MathF.Sin(angle);
            }
        return (cos, sin);
    }

    public override void Dispose()
    {
        base.Dispose();
        _ropeCos?.Dispose(); _ropeSin?.Dispose();
    }
}
