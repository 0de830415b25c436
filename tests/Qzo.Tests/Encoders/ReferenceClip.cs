using Qzo.Encoders.Clip;
using Qzo.Models;
using Qzo.Tests.Compute;
using Qzo.Tests.Models;

namespace Qzo.Tests.Encoders;

/// <summary>
/// A plain CLIP text tower in double precision, written from transformers' modeling_clip.py with naive loops, for
/// checking <see cref="ClipTextModel"/>: token plus position embeddings, pre-LayerNorm layers with causal attention
/// scaled by head_dim^−½ over every token, the MLP's activation, final_layer_norm, text_projection. One unpadded row.
/// </summary>
sealed class ReferenceClip(Checkpoint checkpoint)
{
    readonly ClipTextConfig _c = ClipTextConfig.Parse(checkpoint.ConfigJson);
    readonly ReferenceWeights _w = new(checkpoint, null);

    /// <summary>The embeddings of one row [seq][hidden]: hidden_states[0].</summary>
    public double[][] Embed(int[] ids)
    {
        int h = _c.HiddenSize;
        var tokens = _w["text_model.embeddings.token_embedding.weight"];
        var positions = _w["text_model.embeddings.position_embedding.weight"];
        return ids.Select((id, t) => Enumerable.Range(0, h).Select(i => tokens[id * h + i] + positions[t * h + i]).ToArray()).ToArray();
    }

    /// <summary>Layer <paramref name="l"/> applied to the hidden states of one row.</summary>
    public double[][] Layer(int l, double[][] input)
    {
        string p = $"text_model.encoder.layers.{l}.";
        var x = input.Select(r => (double[])r.Clone()).ToArray();
        var a = x.Select(r => LayerNorm(r, p + "layer_norm1")).ToArray();
        var q = a.Select(r => _w.Linear(r, p + "self_attn.q_proj")).ToArray();
        var k = a.Select(r => _w.Linear(r, p + "self_attn.k_proj")).ToArray();
        var v = a.Select(r => _w.Linear(r, p + "self_attn.v_proj")).ToArray();
        var attention = ReferenceWeights.Attention(q, k, v, _c.Heads, _c.Heads, _c.HeadDim, (t, j) => j <= t);
        for (int t = 0; t < x.Length; t++)
        {
            ReferenceWeights.Add(x[t], _w.Linear(attention[t], p + "self_attn.out_proj"));
            var hidden = _w.Linear(LayerNorm(x[t], p + "layer_norm2"), p + "mlp.fc1")
                .Select(z => DiffusionOperationTests.ReferenceActivation(_c.Activation, z)).ToArray();
            ReferenceWeights.Add(x[t], _w.Linear(hidden, p + "mlp.fc2"));
        }
        return x;
    }

    /// <summary>transformers' hidden_states tuple for one row: the embeddings, then each layer's output.</summary>
    public List<double[][]> HiddenStates(int[] ids)
    {
        var states = new List<double[][]> { Embed(ids) };
        for (int l = 0; l < _c.Layers; l++) states.Add(Layer(l, states[^1]));
        return states;
    }

    public double[] FinalNorm(double[] x) => LayerNorm(x, "text_model.final_layer_norm");

    public double[] Project(double[] pooled) => _w.Linear(pooled, "text_projection");

    double[] LayerNorm(double[] x, string prefix)
    {
        double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        var weight = _w[prefix + ".weight"]; var bias = _w[prefix + ".bias"];
        return x.Select((v, i) => (v - mean) / Math.Sqrt(variance + _c.LayerNormEps) * weight[i] + bias[i]).ToArray();
    }
}
