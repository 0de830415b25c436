using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;

namespace Qzo.Tests.Models;

/// <summary>
/// A plain, obviously-correct Llama forward in double precision, written from formats.md §3 with naive
/// loops, for checking <see cref="LlamaModel"/>. Weights come from the checkpoint (GPTQ layers through
/// <see cref="GptqReference.Dequantize"/>); <c>perturb</c> may replace any tensor's values by name first.
/// </summary>
sealed class ReferenceLlama
{
    readonly LlamaConfig _c;
    readonly Func<string, double[]> _tensor;
    readonly Dictionary<string, double[]> _cache = new();

    public ReferenceLlama(Checkpoint checkpoint, Func<string, float[], float[]>? perturb = null)
    {
        _c = checkpoint.Config;
        perturb ??= (_, v) => v;
        _tensor = name =>
        {
            if (_cache.TryGetValue(name, out var cached)) return cached;
            double[] values;
            if (checkpoint.Tensors.Contains(name)) values = perturb(name, checkpoint.Tensors.ReadFloat32(name)).Select(v => (double)v).ToArray();
            else
            {
                // A GPTQ linear: name is "<prefix>.weight"; dequantize with (possibly perturbed) scales.
                string prefix = name[..^".weight".Length];
                var g = checkpoint.Gptq!;
                var scaleInfo = checkpoint.Tensors.Get(prefix + ".scales");
                int outF = (int)scaleInfo.Shape[1];
                int inF = (int)checkpoint.Tensors.Get(prefix + ".g_idx").Shape[0];
                var scales = perturb(prefix + ".scales", checkpoint.Tensors.ReadFloat32(prefix + ".scales"));
                values = GptqReference.Dequantize(checkpoint.Tensors.ReadInt32(prefix + ".qweight"), checkpoint.Tensors.ReadInt32(prefix + ".qzeros"),
                    scales, checkpoint.Tensors.ReadInt32(prefix + ".g_idx"), inF, outF, g.Bits, g.Format).Select(v => (double)v).ToArray();
            }
            return _cache[name] = values;
        };
    }

    /// <summary>Logits [T, V] of one unpadded sequence.</summary>
    public double[][] Logits(int[] ids)
    {
        int T = ids.Length, H = _c.HiddenSize, hd = _c.HeadDim, nH = _c.Heads, nKV = _c.KvHeads;
        var x = new double[T][];
        var embed = _tensor("model.embed_tokens.weight");
        for (int t = 0; t < T; t++) x[t] = embed.Skip(ids[t] * H).Take(H).ToArray();
        var inv = _c.Rope.InverseFrequencies(hd);
        for (int l = 0; l < _c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            var n = x.Select(r => RmsNorm(r, _tensor(p + "input_layernorm.weight"))).ToArray();
            var q = n.Select(r => Linear(r, p + "self_attn.q_proj")).ToArray();
            var k = n.Select(r => Linear(r, p + "self_attn.k_proj")).ToArray();
            var v = n.Select(r => Linear(r, p + "self_attn.v_proj")).ToArray();
            for (int t = 0; t < T; t++) { Rope(q[t], nH, hd, t, inv); Rope(k[t], nKV, hd, t, inv); }
            var attn = new double[T][];
            for (int t = 0; t < T; t++)
            {
                attn[t] = new double[nH * hd];
                for (int h = 0; h < nH; h++)
                {
                    int kvh = h / (nH / nKV);
                    var scores = new double[t + 1];
                    for (int j = 0; j <= t; j++)
                    {
                        double s = 0;
                        for (int d = 0; d < hd; d++) s += q[t][h * hd + d] * k[j][kvh * hd + d];
                        scores[j] = s / Math.Sqrt(hd);
                    }
                    double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                    for (int j = 0; j <= t; j++)
                        for (int d = 0; d < hd; d++) attn[t][h * hd + d] += Math.Exp(scores[j] - max) / sum * v[j][kvh * hd + d];
                }
            }
            for (int t = 0; t < T; t++) Add(x[t], Linear(attn[t], p + "self_attn.o_proj"));
            for (int t = 0; t < T; t++)
            {
                var m = RmsNorm(x[t], _tensor(p + "post_attention_layernorm.weight"));
                var gate = Linear(m, p + "mlp.gate_proj");
                var up = Linear(m, p + "mlp.up_proj");
                var act = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
                Add(x[t], Linear(act, p + "mlp.down_proj"));
            }
        }
        string head = _c.TieWordEmbeddings ? "model.embed_tokens" : "lm_head";
        return x.Select(r => Linear(RmsNorm(r, _tensor("model.norm.weight")), head)).ToArray();
    }

    /// <summary>Mean NLL of ids[1..] given the prefixes (every token after the first scored).</summary>
    public double Loss(int[] ids)
    {
        var logits = Logits(ids);
        double total = 0;
        for (int t = 0; t + 1 < ids.Length; t++)
        {
            double max = logits[t].Max();
            total += Math.Log(logits[t].Sum(z => Math.Exp(z - max))) + max - logits[t][ids[t + 1]];
        }
        return total / (ids.Length - 1);
    }

    double[] Linear(double[] input, string prefix)
    {
        var w = _tensor(prefix + ".weight");
        int inF = input.Length, outF = w.Length / inF;
        var y = new double[outF];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++) y[o] += w[o * inF + i] * input[i];
        return y;
    }

    double[] RmsNorm(double[] x, double[] weight)
    {
        double rms = Math.Sqrt(x.Sum(v => v * v) / x.Length + _c.RmsNormEps);
        return x.Select((v, i) => v / rms * weight[i]).ToArray();
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

    static void Add(double[] x, double[] y) { for (int i = 0; i < x.Length; i++) x[i] += y[i]; }
}
