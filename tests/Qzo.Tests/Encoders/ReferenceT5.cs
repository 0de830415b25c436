using Qzo.Encoders.T5;
using Qzo.Models;
using Qzo.Tests.Models;

namespace Qzo.Tests.Encoders;

/// <summary>
/// A plain T5 encoder in double precision, written from transformers' modeling_t5.py with naive loops, for checking
/// <see cref="T5EncoderModel"/>: shared embeddings, RMS norms without mean, unscaled attention plus block 0's relative
/// position bias in every block (the bucket of each offset computed in double from the formula), the gated tanh-GELU
/// feed-forward, final_layer_norm. One row.
/// </summary>
sealed class ReferenceT5(Checkpoint checkpoint)
{
    readonly T5EncoderConfig _c = T5EncoderConfig.Parse(checkpoint.ConfigJson);
    readonly ReferenceWeights _w = new(checkpoint, null);

    /// <summary>_relative_position_bucket written out in double precision, bidirectional.</summary>
    public static int Bucket(int relative, int buckets, int maxDistance)
    {
        int half = buckets / 2, exact = half / 2;
        int result = relative > 0 ? half : 0, n = Math.Abs(relative);
        if (n < exact) return result + n;
        int large = exact + (int)(Math.Log((double)n / exact) / Math.Log((double)maxDistance / exact) * (half - exact));
        return result + Math.Min(large, half - 1);
    }

    public double[][] LastHiddenState(int[] ids) => Run(ids).Last;

    /// <summary>Each block's output and the final-normed last hidden state of one row.</summary>
    public (List<double[][]> Blocks, double[][] Last) Run(int[] ids)
    {
        var blocks = new List<double[][]>();
        int d = _c.DModel, heads = _c.Heads, dkv = _c.DKv, T = ids.Length;
        var shared = _w["shared.weight"];
        var table = _w["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"];
        var x = ids.Select(id => shared.Skip(id * d).Take(d).ToArray()).ToArray();
        for (int l = 0; l < _c.Layers; l++)
        {
            string p = $"encoder.block.{l}.";
            var a = x.Select(r => Rms(r, p + "layer.0.layer_norm.weight")).ToArray();
            var q = a.Select(r => _w.Linear(r, p + "layer.0.SelfAttention.q")).ToArray();
            var k = a.Select(r => _w.Linear(r, p + "layer.0.SelfAttention.k")).ToArray();
            var v = a.Select(r => _w.Linear(r, p + "layer.0.SelfAttention.v")).ToArray();
            for (int i = 0; i < T; i++)
            {
                var attention = new double[heads * dkv];
                for (int h = 0; h < heads; h++)
                {
                    var scores = Enumerable.Range(0, T).Select(j =>
                        Enumerable.Range(0, dkv).Sum(e => q[i][h * dkv + e] * k[j][h * dkv + e])
                        + table[Bucket(j - i, _c.RelativeBuckets, _c.RelativeMaxDistance) * heads + h]).ToArray();
                    double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                    for (int j = 0; j < T; j++)
                        for (int e = 0; e < dkv; e++) attention[h * dkv + e] += Math.Exp(scores[j] - max) / sum * v[j][h * dkv + e];
                }
                ReferenceWeights.Add(x[i], _w.Linear(attention, p + "layer.0.SelfAttention.o"));
            }
            for (int i = 0; i < T; i++)
            {
                var m = Rms(x[i], p + "layer.1.layer_norm.weight");
                var gate = _w.Linear(m, p + "layer.1.DenseReluDense.wi_0");
                var up = _w.Linear(m, p + "layer.1.DenseReluDense.wi_1");
                var hidden = gate.Select((g, e) => GeluNew(g) * up[e]).ToArray();
                ReferenceWeights.Add(x[i], _w.Linear(hidden, p + "layer.1.DenseReluDense.wo"));
            }
            blocks.Add(x.Select(r => (double[])r.Clone()).ToArray());
        }
        return (blocks, x.Select(r => Rms(r, "encoder.final_layer_norm.weight")).ToArray());
    }

    static double GeluNew(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    double[] Rms(double[] x, string weightName)
    {
        double meanSquare = x.Sum(v => v * v) / x.Length;
        var weight = _w[weightName];
        return x.Select((v, i) => v / Math.Sqrt(meanSquare + _c.LayerNormEps) * weight[i]).ToArray();
    }
}
