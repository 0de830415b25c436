using Qzo.Models;
using Qzo.Models.Architectures.Opt;

namespace Qzo.Tests.Models;

/// <summary>
/// A plain OPT forward in double precision, written from transformers' modeling_opt.py with naive loops, for
/// checking <see cref="OptModel"/>: token t of an unpadded sequence reads embed_positions row t + 2; project_in/out
/// where the checkpoint has them; pre- or post-LayerNorm layers; LayerNorm eps 1e-5 with the biased variance.
/// </summary>
sealed class ReferenceOpt(Checkpoint checkpoint, Func<string, float[], float[]>? perturb = null) : IReferenceModel
{
    readonly OptConfig _c = (OptConfig)checkpoint.Config;
    readonly ReferenceWeights _w = new(checkpoint, perturb);
    const string D = "model.decoder.";

    public double[][] Logits(int[] ids)
    {
        int T = ids.Length, H = _c.HiddenSize, words = _c.WordEmbedProjDim, hd = H / _c.Heads;
        var embed = _w[D + "embed_tokens.weight"];
        var positions = _w[D + "embed_positions.weight"];
        var x = new double[T][];
        for (int t = 0; t < T; t++)
        {
            var e = embed.Skip(ids[t] * words).Take(words).ToArray();
            if (_w.Has(D + "project_in.weight")) e = _w.Linear(e, D + "project_in");
            x[t] = e.Select((v, i) => v + positions[(t + 2) * H + i]).ToArray();
        }
        bool before = _c.DoLayerNormBefore;
        for (int l = 0; l < _c.Layers; l++)
        {
            string p = $"{D}layers.{l}.";
            var a = before ? x.Select(r => LayerNorm(r, p + "self_attn_layer_norm")).ToArray() : x;
            var q = a.Select(r => _w.Linear(r, p + "self_attn.q_proj")).ToArray();
            var k = a.Select(r => _w.Linear(r, p + "self_attn.k_proj")).ToArray();
            var v = a.Select(r => _w.Linear(r, p + "self_attn.v_proj")).ToArray();
            var attn = ReferenceWeights.Attention(q, k, v, _c.Heads, _c.Heads, hd, (t, j) => j <= t);
            for (int t = 0; t < T; t++)
            {
                ReferenceWeights.Add(x[t], _w.Linear(attn[t], p + "self_attn.out_proj"));
                if (!before) x[t] = LayerNorm(x[t], p + "self_attn_layer_norm");
                var m = before ? LayerNorm(x[t], p + "final_layer_norm") : x[t];
                var hidden = _w.Linear(m, p + "fc1").Select(z => Math.Max(z, 0)).ToArray();
                ReferenceWeights.Add(x[t], _w.Linear(hidden, p + "fc2"));
                if (!before) x[t] = LayerNorm(x[t], p + "final_layer_norm");
            }
        }
        string head = _c.TieWordEmbeddings ? D + "embed_tokens" : "lm_head";
        return x.Select(r =>
        {
            if (_c.FinalLayerNorm) r = LayerNorm(r, D + "final_layer_norm");
            if (_w.Has(D + "project_out.weight")) r = _w.Linear(r, D + "project_out");
            return _w.Linear(r, head);
        }).ToArray();
    }

    double[] LayerNorm(double[] x, string prefix)
    {
        double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        var y = x.Select(v => (v - mean) / Math.Sqrt(variance + 1e-5)).ToArray();
        if (_w.Has(prefix + ".weight")) y = y.Select((v, i) => v * _w[prefix + ".weight"][i]).ToArray();
        if (_w.Has(prefix + ".bias")) y = y.Select((v, i) => v + _w[prefix + ".bias"][i]).ToArray();
        return y;
    }
}
