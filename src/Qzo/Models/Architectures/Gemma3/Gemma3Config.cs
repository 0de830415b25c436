using System.Text.Json.Nodes;

namespace Qzo.Models.Architectures.Gemma3;

/// <summary>
/// Gemma 3's text config.json (transformers' Gemma3TextConfig), the `text_config` of a Gemma3ForConditionalGeneration
/// checkpoint included. Each layer is local (sliding window, its own RoPE) or global (full attention, its own RoPE);
/// see <see cref="Gemma3ConfigReader"/> for the spellings read.
/// </summary>
public sealed record Gemma3Config : ModelConfig
{
    public required int IntermediateSize { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required float RmsNormEps { get; init; }
    /// <summary>Attention scores are scaled by query_pre_attn_scalar^−½ (not head_dim^−½).</summary>
    public required double QueryPreAttnScalar { get; init; }
    /// <summary>Per layer: true for a sliding-window (local) layer, false for a full-attention (global) one.</summary>
    public required bool[] SlidingLayers { get; init; }
    /// <summary>The local layers' window: query i sees key j iff 0 ≤ i − j &lt; window (0 = no window).</summary>
    public required int SlidingWindow { get; init; }
    public required RopeConfig LocalRope { get; init; }
    public required RopeConfig GlobalRope { get; init; }
    public required bool AttentionBias { get; init; }
    /// <summary>Logits become cap · tanh(logit / cap); null = none.</summary>
    public float? FinalSoftcap { get; init; }

    public float AttentionScale => (float)Math.Pow(QueryPreAttnScalar, -0.5);

    public int AttentionWindow(int layer) => SlidingLayers[layer] ? SlidingWindow : 0;

    public RopeConfig Rope(int layer) => SlidingLayers[layer] ? LocalRope : GlobalRope;

    public override long ParameterCount =>
        (long)VocabSize * HiddenSize * (TieWordEmbeddings ? 1 : 2) + HiddenSize
        + (long)Layers * (4L * HiddenSize + 2L * HeadDim
            + (long)HiddenSize * Heads * HeadDim * 2 + (long)HiddenSize * KvHeads * HeadDim * 2 + 3L * HiddenSize * IntermediateSize
            + (AttentionBias ? Heads * HeadDim * 1L + 2L * KvHeads * HeadDim + HiddenSize : 0));

    public override IEnumerable<(string Key, string Value)> Describe()
    {
        int local = SlidingLayers.Count(s => s);
        yield return ("model", $"{Architecture.ClassName}, {Layers} layers ({local} local, {Layers - local} global), hidden {HiddenSize}, "
                               + $"intermediate {IntermediateSize} (GeGLU)");
        yield return ("attention", $"{Heads} heads × {HeadDim}, {KvHeads} kv heads, q/k norms, scale {QueryPreAttnScalar}^-1/2"
            + (SlidingWindow > 0 && local > 0 ? $", sliding window {SlidingWindow}" : ""));
        yield return ("vocab", $"{VocabSize}{(TieWordEmbeddings ? ", tied embeddings" : "")}"
            + (FinalSoftcap is float f ? $", logits soft-capped at {f}" : ""));
        var rope = new JsonObject { ["sliding_attention"] = LocalRope.ToJson(), ["full_attention"] = GlobalRope.ToJson() };
        yield return ("rope", rope.ToJsonString());
    }
}
