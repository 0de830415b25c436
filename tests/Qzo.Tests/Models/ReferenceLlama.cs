using Qzo.Models;
using Qzo.Models.Architectures.LlamaLayout;

namespace Qzo.Tests.Models;

/// <summary>
/// A plain, obviously-correct forward of the Llama layout (Llama, Mistral, Qwen2, Qwen3) in double precision, written
/// from docs/architecture.md §4 with naive loops, for checking <see cref="LlamaModel"/>: biases wherever the checkpoint
/// has them, per-head RMSNorm of q and k before RoPE where the config says so, and each layer's sliding window as
/// transformers masks it (key j visible to query t iff j ≤ t and t − j &lt; window).
/// </summary>
sealed class ReferenceLlama(Checkpoint checkpoint, Func<string, float[], float[]>? perturb = null) : IReferenceModel
{
    readonly LlamaConfig _c = (LlamaConfig)checkpoint.Config;
    readonly ReferenceWeights _w = new(checkpoint, perturb);

    public double[][] Logits(int[] ids)
    {
        int T = ids.Length, H = _c.HiddenSize, hd = _c.HeadDim, nH = _c.Heads, nKV = _c.KvHeads;
        var embed = _w["model.embed_tokens.weight"];
        var x = ids.Select(id => embed.Skip(id * H).Take(H).ToArray()).ToArray();
        var inv = _c.Rope.InverseFrequencies(hd);
        for (int l = 0; l < _c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            int window = _c.AttentionWindow(l);
            var n = x.Select(r => RmsNorm(r, _w[p + "input_layernorm.weight"])).ToArray();
            var q = n.Select(r => _w.Linear(r, p + "self_attn.q_proj")).ToArray();
            var k = n.Select(r => _w.Linear(r, p + "self_attn.k_proj")).ToArray();
            var v = n.Select(r => _w.Linear(r, p + "self_attn.v_proj")).ToArray();
            if (_c.QkNorm)
                for (int t = 0; t < T; t++)
                {
                    q[t] = NormEachHead(q[t], nH, hd, _w[p + "self_attn.q_norm.weight"]);
                    k[t] = NormEachHead(k[t], nKV, hd, _w[p + "self_attn.k_norm.weight"]);
                }
            for (int t = 0; t < T; t++) { Rope(q[t], nH, hd, t, inv); Rope(k[t], nKV, hd, t, inv); }
            var attn = ReferenceWeights.Attention(q, k, v, nH, nKV, hd, (t, j) => j <= t && (window == 0 || t - j < window));
            for (int t = 0; t < T; t++) ReferenceWeights.Add(x[t], _w.Linear(attn[t], p + "self_attn.o_proj"));
            for (int t = 0; t < T; t++)
            {
                var m = RmsNorm(x[t], _w[p + "post_attention_layernorm.weight"]);
                var gate = _w.Linear(m, p + "mlp.gate_proj");
                var up = _w.Linear(m, p + "mlp.up_proj");
                var act = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
                ReferenceWeights.Add(x[t], _w.Linear(act, p + "mlp.down_proj"));
            }
        }
        string head = _c.TieWordEmbeddings ? "model.embed_tokens" : "lm_head";
        return x.Select(r => _w.Linear(RmsNorm(r, _w["model.norm.weight"]), head)).ToArray();
    }

    double[] RmsNorm(double[] x, double[] weight)
    {
        double rms = Math.Sqrt(x.Sum(v => v * v) / x.Length + _c.RmsNormEps);
        return x.Select((v, i) => v / rms * weight[i]).ToArray();
    }

    double[] NormEachHead(double[] x, int heads, int hd, double[] weight) =>
        Enumerable.Range(0, heads).SelectMany(h => RmsNorm(x.Skip(h * hd).Take(hd).ToArray(), weight)).ToArray();

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
