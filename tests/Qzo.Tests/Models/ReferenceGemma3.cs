using Qzo.Models;
using Qzo.Models.Architectures.Gemma3;

namespace Qzo.Tests.Models;

/// <summary>
/// A plain, obviously-correct forward of Gemma 3's language model in double precision, written from transformers'
/// modeling_gemma3 with naive loops, for checking <see cref="Gemma3Model"/>: embeddings × √hidden, RMSNorm with (1 + weight),
/// four norms per layer and q/k norms before RoPE, scores scaled by query_pre_attn_scalar^−½ (attn_logit_softcapping unused, as there),
/// local layers windowed (key j visible to query t iff j ≤ t and t − j &lt; window) with the local RoPE, GeGLU with the tanh
/// GELU, and the final logits soft-capped. Tensors under `model.`, `language_model.model.` or `model.language_model.`.
/// </summary>
sealed class ReferenceGemma3(Checkpoint checkpoint, Func<string, float[], float[]>? perturb = null) : IReferenceModel
{
    readonly Gemma3Config _c = (Gemma3Config)checkpoint.Config;
    readonly ReferenceWeights _w = new(checkpoint, perturb);
    readonly string _model = new[] { "model.", "language_model.model.", "model.language_model." }
        .First(p => checkpoint.Tensors.Contains(p + "embed_tokens.weight"));

    public double[][] Logits(int[] ids)
    {
        int T = ids.Length, H = _c.HiddenSize, hd = _c.HeadDim, nH = _c.Heads, nKV = _c.KvHeads;
        var embed = _w[_model + "embed_tokens.weight"];
        double scale = Math.Sqrt(H);
        var x = ids.Select(id => embed.Skip(id * H).Take(H).Select(v => v * scale).ToArray()).ToArray();
        for (int l = 0; l < _c.Layers; l++)
        {
            string p = $"{_model}layers.{l}.";
            int window = _c.AttentionWindow(l);
            var inv = _c.Rope(l).InverseFrequencies(hd);
            var n = x.Select(r => Norm(r, p + "input_layernorm")).ToArray();
            var q = n.Select(r => PerHead(_w.Linear(r, p + "self_attn.q_proj"), nH, hd, p + "self_attn.q_norm")).ToArray();
            var k = n.Select(r => PerHead(_w.Linear(r, p + "self_attn.k_proj"), nKV, hd, p + "self_attn.k_norm")).ToArray();
            var v = n.Select(r => _w.Linear(r, p + "self_attn.v_proj")).ToArray();
            for (int t = 0; t < T; t++) { Rope(q[t], nH, hd, t, inv); Rope(k[t], nKV, hd, t, inv); }
            var attn = Attention(q, k, v, (t, j) => j <= t && (window == 0 || t - j < window));
            for (int t = 0; t < T; t++)
                ReferenceWeights.Add(x[t], Norm(_w.Linear(attn[t], p + "self_attn.o_proj"), p + "post_attention_layernorm"));
            for (int t = 0; t < T; t++)
            {
                var m = Norm(x[t], p + "pre_feedforward_layernorm");
                var gate = _w.Linear(m, p + "mlp.gate_proj");
                var up = _w.Linear(m, p + "mlp.up_proj");
                var act = gate.Select((g, i) => GeluTanh(g) * up[i]).ToArray();
                ReferenceWeights.Add(x[t], Norm(_w.Linear(act, p + "mlp.down_proj"), p + "post_feedforward_layernorm"));
            }
        }
        string head = _c.TieWordEmbeddings ? _model + "embed_tokens"
            : _model == "language_model.model." && _w.Has("language_model.lm_head.weight") ? "language_model.lm_head" : "lm_head";
        return x.Select(r => _w.Linear(Norm(r, _model + "norm"), head).Select(z => Cap(z, _c.FinalSoftcap)).ToArray()).ToArray();
    }

    double[] Norm(double[] x, string name) => RmsNorm(x, _w[name + ".weight"]);

    double[] RmsNorm(double[] x, ReadOnlySpan<double> weight)
    {
        double rms = Math.Sqrt(x.Sum(v => v * v) / x.Length + _c.RmsNormEps);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i] / rms * (1 + weight[i]);
        return y;
    }

    double[] PerHead(double[] x, int heads, int hd, string norm)
    {
        var w = _w[norm + ".weight"];
        var y = new double[x.Length];
        for (int h = 0; h < heads; h++) RmsNorm(x[(h * hd)..((h + 1) * hd)], w).CopyTo(y, h * hd);
        return y;
    }

    static double Cap(double z, float? cap) => cap is float c ? c * Math.Tanh(z / c) : z;

    static double GeluTanh(double g) => 0.5 * g * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g)));

    /// <summary>
    /// softmax(q·kᵀ · query_pre_attn_scalar^−½)·v per head over the visible keys; kv head = h / (heads / kvHeads).
    /// </summary>
    double[][] Attention(double[][] q, double[][] k, double[][] v, Func<int, int, bool> visible)
    {
        int T = q.Length, hd = _c.HeadDim, heads = _c.Heads, kvHeads = _c.KvHeads;
        double scale = 1 / Math.Sqrt(_c.QueryPreAttnScalar);
        var output = new double[T][];
        for (int t = 0; t < T; t++)
        {
            output[t] = new double[heads * hd];
            for (int h = 0; h < heads; h++)
            {
                int kvh = h / (heads / kvHeads);
                var keys = Enumerable.Range(0, T).Where(j => visible(t, j)).ToArray();
                var scores = keys.Select(j => Enumerable.Range(0, hd).Sum(d => q[t][h * hd + d] * k[j][kvh * hd + d]) * scale).ToArray();
                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int n = 0; n < keys.Length; n++)
                    for (int d = 0; d < hd; d++) output[t][h * hd + d] += Math.Exp(scores[n] - max) / sum * v[keys[n]][kvh * hd + d];
            }
        }
        return output;
    }

    static void Rope(double[] x, int heads, int hd, int position, float[] inv)
    {
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < hd / 2; i++)
            {
                double angle = position * (double)inv[i];
                double a = x[h * hd + i], b = x[h * hd + i + hd / 2];
                x[h * hd + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                x[h * hd + i + hd / 2] = b * Math.Cos(angle) + a * Math.Sin(angle);
            }
    }
}
