using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// The Llama forward pass as transformers computes it (formats.md §3), also Mistral's and Qwen2's: embed → for
/// each layer [x += o_proj(attn(rope(q), rope(k), v) of RMSNorm(x)); x += down(silu(gate(n))·up(n)) with
/// n = RMSNorm(x)] → final RMSNorm → lm_head. Qwen2's q/k/v biases live in the linears; Mistral's and Qwen2's
/// sliding windows are the per-layer <see cref="LlamaConfig.AttentionWindow"/>. Positions are 0..T−1 whatever
/// the padding, as transformers' forward uses them when given no position_ids.
/// </summary>
public sealed class LlamaModel : CausalLanguageModel
{
    readonly float[] _invFreq;
    DeviceTensor? _ropeCos, _ropeSin;
    int _ropePositions;

    internal LlamaModel(LlamaConfig config, IBackend backend, Parameter embedding, IReadOnlyList<LlamaLayer> layers,
                        Parameter finalNorm, ILinear lmHead, IReadOnlyList<string> unusedTensors)
        : base(config, backend, lmHead, unusedTensors)
    {
        Config = config;
        Embedding = embedding;
        Layers = layers;
        FinalNorm = finalNorm;
        _invFreq = config.Rope.InverseFrequencies(config.HeadDim);
    }

    public new LlamaConfig Config { get; }
    public Parameter Embedding { get; }
    public IReadOnlyList<LlamaLayer> Layers { get; }
    public Parameter FinalNorm { get; }

    public override IEnumerable<ILinear> AllLinears => Layers.SelectMany(l => l.Linears).Append(LmHead);

    public override IEnumerable<Parameter> AllParameters =>
        new[] { Embedding, FinalNorm }
            .Concat(Layers.SelectMany(l => new[] { l.InputNorm, l.PostAttentionNorm }))
            .Concat(AllLinears.SelectMany(l => l.Parameters))
            .DistinctBy(p => p.Name);

    private protected override ActivationShape Shape => ActivationShapeOf(Config);

    internal static ActivationShape ActivationShapeOf(LlamaConfig c) =>
        new(c.HiddenSize, c.Heads * c.HeadDim, c.KvHeads * c.HeadDim, c.IntermediateSize, GatedMlp: true, c.HiddenSize, c.VocabSize);

    private protected override IEnumerable<Parameter> Tables => [Embedding];

    private protected override DeviceTensor RunDecoder(TokenBatch batch, ActivationBuffers a, ForwardContext context)
    {
        var c = Config; var b = Backend;
        int n = batch.Batch * batch.Seq, h = c.HiddenSize;
        var positions = new int[n];
        for (int i = 0; i < n; i++) positions[i] = i % batch.Seq;
        b.Upload<int>(a.Positions, positions);
        EnsureRopeTables(batch.Seq);

        b.EmbeddingGather(context.Resolve(Embedding), a.Ids, a.X, n, h);
        for (int l = 0; l < Layers.Count; l++) RunLayer(c, Layers[l], l, batch.Batch, batch.Seq, a, context, _ropeCos!, _ropeSin!);
        b.RmsNorm(a.X, context.ResolveVector(FinalNorm), a.Normed, n, h, c.RmsNormEps);
        return a.Normed;
    }

    /// <summary>
    /// One decoder layer over the hidden states in <c>a.X</c> [batch·seq, hidden], in place. <c>a.Positions</c> holds each
    /// row's position and <c>a.Mask</c> the attention mask; <paramref name="ropeCos"/>/<paramref name="ropeSin"/> are the
    /// tables of <see cref="RopeTables"/>. The forward pass runs it for every layer; calibration-based quantizers run it
    /// one layer at a time.
    /// </summary>
    internal static void RunLayer(LlamaConfig c, LlamaLayer layer, int l, int batch, int seq, ActivationBuffers a, ForwardContext context,
                                  DeviceTensor ropeCos, DeviceTensor ropeSin)
    {
        var b = context.Backend;
        int n = batch * seq, h = c.HiddenSize;
        b.RmsNorm(a.X, context.ResolveVector(layer.InputNorm), a.Normed, n, h, c.RmsNormEps);
        layer.Q.Forward(context, a.Normed, n, a.Q);
        layer.K.Forward(context, a.Normed, n, a.K);
        layer.V.Forward(context, a.Normed, n, a.V);
        b.ApplyRope(a.Q, a.Positions, ropeCos, ropeSin, n, c.Heads, c.HeadDim);
        b.ApplyRope(a.K, a.Positions, ropeCos, ropeSin, n, c.KvHeads, c.HeadDim);
        b.CausalAttention(a.Q, a.K, a.V, a.Mask, a.Attention, batch, seq, c.Heads, c.KvHeads, c.HeadDim, c.AttentionWindow(l));
        layer.O.Forward(context, a.Attention, n, a.Normed);
        b.AddInPlace(a.X, a.Normed, (long)n * h);

        b.RmsNorm(a.X, context.ResolveVector(layer.PostAttentionNorm), a.Normed, n, h, c.RmsNormEps);
        layer.Gate.Forward(context, a.Normed, n, a.Mlp);
        layer.Up.Forward(context, a.Normed, n, a.Up!);
        b.SiluMulInPlace(a.Mlp, a.Up!, (long)n * c.IntermediateSize);
        layer.Down.Forward(context, a.Mlp, n, a.Normed);
        b.AddInPlace(a.X, a.Normed, (long)n * h);
    }

    /// <summary>
    /// cos and sin of position·invFreq for positions 0..seq−1, computed once on the host with an fp32 angle
    /// (as transformers does) and kept until a longer sequence arrives.
    /// </summary>
    void EnsureRopeTables(int seq)
    {
        if (seq <= _ropePositions) return;
        int positions = Math.Max(seq, 256);
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
