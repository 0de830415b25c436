using Qzo.Diffusion.Sd3;
using Qzo.IO;

namespace Qzo.Tests.Diffusion;

/// <summary>
/// SD3Transformer2DModel written plainly in double precision with naive loops, one sample at a time, from diffusers v0.39.0's
/// transformer_sd3.py, attention.py (JointTransformerBlock), attention_processor.py (JointAttnProcessor2_0),
/// normalization.py and embeddings.py, reading the weights straight from the checkpoint's files. Returns the same named
/// intermediates as <see cref="Sd3Probe"/> ([batch][...] flattened per sample) plus "sample".
/// </summary>
sealed class ReferenceSd3Transformer(string folder)
{
    readonly Sd3TransformerConfig _c = Sd3TransformerConfig.Load(Path.Combine(folder, "config.json"));
    readonly Dictionary<string, float[]> _weights = ReadAll(folder);

    static Dictionary<string, float[]> ReadAll(string folder)
    {
        using var tensors = CheckpointTensors.Open(folder);
        return tensors.Names.ToDictionary(n => n, tensors.ReadFloat32);
    }

    float[] W(string name) => _weights[name];

    public Dictionary<string, List<double[]>> Run(float[] latents, float[] context, float[] pooled, float[] timesteps, int batch,
                                                 int height, int width, int textTokens)
    {
        var outputs = new Dictionary<string, List<double[]>>();
        void Record(string name, double[][] rows) =>
            (outputs.TryGetValue(name, out var list) ? list : outputs[name] = []).Add(rows.SelectMany(r => r).ToArray());
        for (int s = 0; s < batch; s++)
        {
            int inSize = _c.InChannels * height * width;
            int textSize = textTokens * _c.JointAttentionDim;
            var text = Rows(context.AsSpan(s * textSize, textSize).ToArray(), _c.JointAttentionDim);
            Sample(latents.AsSpan(s * inSize, inSize).ToArray(), text,
                   pooled.AsSpan(s * _c.PooledProjectionDim, _c.PooledProjectionDim).ToArray(), timesteps[s], height, width, Record);
        }
        return outputs;
    }

    void Sample(float[] latent, double[][] encoder, float[] pooled, float timestep, int height, int width,
                Action<string, double[][]> record)
    {
        int p = _c.PatchSize, d = _c.InnerDim, h = height / p, w = width / p, m = _c.PosEmbedMaxSize;
        var convW = W("pos_embed.proj.weight"); var convB = W("pos_embed.proj.bias"); var table = W("pos_embed.pos_embed");
        int top = (m - h) / 2, left = (m - w) / 2;
        var x = new double[h * w][];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                var token = new double[d];
                for (int o = 0; o < d; o++)
                {
                    double sum = convB[o];
                    for (int ch = 0; ch < _c.InChannels; ch++)
                        for (int u = 0; u < p; u++)
                            for (int v = 0; v < p; v++)
                                sum += (double)convW[((o * _c.InChannels + ch) * p + u) * p + v]
                                       * latent[(ch * height + i * p + u) * width + j * p + v];
                    token[o] = sum + table[((top + i) * m + left + j) * d + o];
                }
                x[i * w + j] = token;
            }
        record("pos_embed", x);

        var temb = Linear(Silu(Linear(Sinusoid(timestep), "time_text_embed.timestep_embedder.linear_1")),
                          "time_text_embed.timestep_embedder.linear_2");
        var text = Linear(Silu(Linear(pooled.Select(v => (double)v).ToArray(), "time_text_embed.text_embedder.linear_1")),
                          "time_text_embed.text_embedder.linear_2");
        for (int k = 0; k < d; k++) temb[k] += text[k];
        record("temb", [temb]);
        var c = encoder.Select(r => Linear(r, "context_embedder")).ToArray();
        record("context", c);
        var siluTemb = Silu(temb);

        for (int i = 0; i < _c.Layers; i++)
        {
            (x, var next) = Block(i, x, c, siluTemb);
            record($"block.{i}.hidden_states", x);
            if (next is not null) { c = next; record($"block.{i}.encoder_hidden_states", c); }
        }

        var mod = Linear(siluTemb, "norm_out.linear");
        var normed = x.Select(r => Modulate(LayerNorm(r), mod, shift: 1, scale: 0)).ToArray();
        record("norm_out", normed);
        var patches = normed.Select(r => Linear(r, "proj_out")).ToArray();
        var sample = new double[_c.OutChannels * height * width];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
                for (int py = 0; py < p; py++)
                    for (int px = 0; px < p; px++)
                        for (int ch = 0; ch < _c.OutChannels; ch++)
                            sample[(ch * height + i * p + py) * width + j * p + px] =
                                patches[i * w + j][(py * p + px) * _c.OutChannels + ch];
        record("sample", [sample]);
    }

    (double[][] X, double[][]? C) Block(int i, double[][] x, double[][] c, double[] siluTemb)
    {
        string pre = $"transformer_blocks.{i}.";
        bool dual = _c.IsDual(i), last = _c.IsContextPreOnly(i);
        var mod = Linear(siluTemb, pre + "norm1.linear");
        var cmod = Linear(siluTemb, pre + "norm1_context.linear");
        var ln = x.Select(LayerNorm).ToArray();
        var n = ln.Select(r => Modulate(r, mod, 0, 1)).ToArray();
        var n2 = dual ? ln.Select(r => Modulate(r, mod, 6, 7)).ToArray() : null;
        var nc = c.Select(r => last ? Modulate(LayerNorm(r), cmod, 1, 0) : Modulate(LayerNorm(r), cmod, 0, 1)).ToArray();

        var (attnImage, attnText) = JointAttention(pre + "attn.", n, nc, last);
        x = x.Select((r, t) => GatedAdd(r, mod, 2, attnImage[t])).ToArray();
        if (dual)
        {
            var (attn2, _) = JointAttention(pre + "attn2.", n2!, null, true);
            x = x.Select((r, t) => GatedAdd(r, mod, 8, attn2[t])).ToArray();
        }
        x = x.Select(r => GatedAdd(r, mod, 5, FeedForward(Modulate(LayerNorm(r), mod, 3, 4), pre + "ff."))).ToArray();
        if (last) return (x, null);
        c = c.Select((r, t) => GatedAdd(r, cmod, 2, attnText![t])).ToArray();
        c = c.Select(r => GatedAdd(r, cmod, 5, FeedForward(Modulate(LayerNorm(r), cmod, 3, 4), pre + "ff_context."))).ToArray();
        return (x, c);
    }

    /// <summary>JointAttnProcessor2_0: q, k, v of [image; text] (text only when given), per-head RMSNorms, SDPA, split.</summary>
    (double[][] Image, double[][]? Text) JointAttention(string pre, double[][] image, double[][]? text, bool contextPreOnly)
    {
        int heads = _c.Heads, hd = _c.HeadDim;
        double[][] Project(double[][] rows, string linear, string? norm) =>
            rows.Select(r => norm is not null && _c.QkRmsNorm ? HeadRmsNorm(Linear(r, pre + linear), pre + norm) : Linear(r, pre + linear))
                .ToArray();
        var q = Project(image, "to_q", "norm_q"); var k = Project(image, "to_k", "norm_k"); var v = Project(image, "to_v", null);
        if (text is not null)
        {
            q = [.. q, .. Project(text, "add_q_proj", "norm_added_q")];
            k = [.. k, .. Project(text, "add_k_proj", "norm_added_k")];
            v = [.. v, .. Project(text, "add_v_proj", null)];
        }
        int s = q.Length;
        var o = new double[s][];
        for (int t = 0; t < s; t++)
        {
            o[t] = new double[heads * hd];
            for (int hh = 0; hh < heads; hh++)
            {
                var scores = new double[s];
                for (int j = 0; j < s; j++)
                {
                    double dot = 0;
                    for (int e = 0; e < hd; e++) dot += q[t][hh * hd + e] * k[j][hh * hd + e];
                    scores[j] = dot / Math.Sqrt(hd);
                }
                double max = scores.Max(), total = scores.Sum(z => Math.Exp(z - max));
                for (int j = 0; j < s; j++)
                    for (int e = 0; e < hd; e++) o[t][hh * hd + e] += Math.Exp(scores[j] - max) / total * v[j][hh * hd + e];
            }
        }
        var imageOut = o.Take(image.Length).Select(r => Linear(r, pre + "to_out.0")).ToArray();
        if (text is null || contextPreOnly) return (imageOut, null);
        return (imageOut, o.Skip(image.Length).Select(r => Linear(r, pre + "to_add_out")).ToArray());
    }

    double[] FeedForward(double[] x, string pre) =>
        Linear(Linear(x, pre + "net.0.proj").Select(GeluTanh).ToArray(), pre + "net.2");

    double[] Linear(double[] x, string prefix)
    {
        var weight = W(prefix + ".weight"); var bias = W(prefix + ".bias");
        int outputs = bias.Length, inputs = x.Length;
        Assert.Equal((long)outputs * inputs, weight.Length);
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = bias[o];
            for (int i = 0; i < inputs; i++) sum += weight[o * inputs + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    double[] HeadRmsNorm(double[] x, string norm)
    {
        var weight = W(norm + ".weight");
        int hd = _c.HeadDim;
        var y = new double[x.Length];
        for (int h0 = 0; h0 < x.Length; h0 += hd)
        {
            double meanSquare = 0;
            for (int e = 0; e < hd; e++) meanSquare += x[h0 + e] * x[h0 + e] / hd;
            for (int e = 0; e < hd; e++) y[h0 + e] = x[h0 + e] / Math.Sqrt(meanSquare + 1e-6) * weight[e];
        }
        return y;
    }

    double[] Modulate(double[] normed, double[] mod, int shift, int scale)
    {
        int d = _c.InnerDim;
        return normed.Select((v, k) => v * (1 + mod[scale * d + k]) + mod[shift * d + k]).ToArray();
    }

    double[] GatedAdd(double[] x, double[] mod, int gate, double[] y) =>
        x.Select((v, k) => v + mod[gate * _c.InnerDim + k] * y[k]).ToArray();

    static double[] LayerNorm(double[] x)
    {
        double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        return x.Select(v => (v - mean) / Math.Sqrt(variance + 1e-6)).ToArray();
    }

    static double[] Silu(double[] x) => x.Select(v => v / (1 + Math.Exp(-v))).ToArray();

    static double GeluTanh(double v) => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

    /// <summary>get_timestep_embedding(t, 256, flip_sin_to_cos=True, downscale_freq_shift=0), its fp32 steps spelled out.</summary>
    static double[] Sinusoid(float t)
    {
        var e = new double[256];
        for (int i = 0; i < 128; i++)
        {
            float exponent = (float)(-Math.Log(10000)) * i;
            exponent /= 128f;
            float angle = t * (float)Math.Exp(exponent);
            e[i] = (float)Math.Cos(angle);
            e[128 + i] = (float)Math.Sin(angle);
        }
        return e;
    }

    static double[][] Rows(float[] values, int width) =>
        Enumerable.Range(0, values.Length / width)
            .Select(r => values.Skip(r * width).Take(width).Select(v => (double)v).ToArray()).ToArray();
}
