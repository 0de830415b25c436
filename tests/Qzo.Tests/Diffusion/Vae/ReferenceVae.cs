using Qzo.IO;

namespace Qzo.Tests.Diffusion.Vae;

/// <summary>An NCHW image in double precision for the naive reference.</summary>
public sealed record RefImage(double[] V, int B, int C, int H, int W)
{
    public static RefImage Zeros(int b, int c, int h, int w) => new(new double[(long)b * c * h * w], b, c, h, w);
    public double this[int b, int c, int y, int x]
    {
        get => V[(((long)b * C + c) * H + y) * W + x];
        set => V[(((long)b * C + c) * H + y) * W + x] = value;
    }
}

/// <summary>
/// diffusers' AutoencoderKL written out with plain loops in double precision over the weights of a safetensors file,
/// following autoencoders/vae.py, resnet.py, downsampling.py, upsampling.py and attention_processor.py of v0.39.0.
/// Independent of Qzo's backend: it checks the wiring (channel order, paddings, residuals) and the arithmetic.
/// </summary>
sealed class ReferenceVae(SafetensorsFile weights, int[] blockOutChannels, int layersPerBlock, int groups, bool midAttention)
{
    const double Eps = 1e-6;
    int Levels => blockOutChannels.Length;

    double[] W(string name) => weights.ReadFloat32(name).Select(v => (double)v).ToArray();

    public static RefImage Conv(RefImage x, double[] w, double[] bias, int cOut, int k, int stride,
                                int top, int bottom, int left, int right)
    {
        int h = (x.H + top + bottom - k) / stride + 1, wd = (x.W + left + right - k) / stride + 1;
        var y = RefImage.Zeros(x.B, cOut, h, wd);
        for (int b = 0; b < x.B; b++)
            for (int o = 0; o < cOut; o++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < wd; j++)
                    {
                        double sum = bias[o];
                        for (int c = 0; c < x.C; c++)
                            for (int u = 0; u < k; u++)
                                for (int v = 0; v < k; v++)
                                {
                                    int yy = i * stride + u - top, xx = j * stride + v - left;
                                    if (yy < 0 || yy >= x.H || xx < 0 || xx >= x.W) continue;
                                    sum += w[((o * x.C + c) * k + u) * k + v] * x[b, c, yy, xx];
                                }
                        y[b, o, i, j] = sum;
                    }
        return y;
    }

    public RefImage Conv(string prefix, RefImage x, int k, int stride = 1, bool downsample = false)
    {
        var w = W(prefix + ".weight");
        var bias = W(prefix + ".bias");
        int pad = downsample ? 0 : k / 2;
        return Conv(x, w, bias, bias.Length, k, stride, pad, downsample ? 1 : pad, pad, downsample ? 1 : pad);
    }

    public static RefImage GroupNorm(RefImage x, double[] gamma, double[] beta, int groups)
    {
        var y = RefImage.Zeros(x.B, x.C, x.H, x.W);
        int per = x.C / groups;
        for (int b = 0; b < x.B; b++)
            for (int g = 0; g < groups; g++)
            {
                double sum = 0, sq = 0;
                int n = per * x.H * x.W;
                for (int c = g * per; c < (g + 1) * per; c++)
                    for (int i = 0; i < x.H; i++) for (int j = 0; j < x.W; j++) sum += x[b, c, i, j];
                double mean = sum / n;
                for (int c = g * per; c < (g + 1) * per; c++)
                    for (int i = 0; i < x.H; i++) for (int j = 0; j < x.W; j++) sq += (x[b, c, i, j] - mean) * (x[b, c, i, j] - mean);
                double inv = 1 / Math.Sqrt(sq / n + Eps);
                for (int c = g * per; c < (g + 1) * per; c++)
                    for (int i = 0; i < x.H; i++)
                        for (int j = 0; j < x.W; j++) y[b, c, i, j] = (x[b, c, i, j] - mean) * inv * gamma[c] + beta[c];
            }
        return y;
    }

    RefImage Norm(string prefix, RefImage x) => GroupNorm(x, W(prefix + ".weight"), W(prefix + ".bias"), groups);

    public static RefImage Silu(RefImage x) => x with { V = x.V.Select(v => v / (1 + Math.Exp(-v))).ToArray() };

    static RefImage Add(RefImage a, RefImage b) => a with { V = a.V.Select((v, i) => v + b.V[i]).ToArray() };

    public RefImage Resnet(string prefix, RefImage x)
    {
        var h = Conv(prefix + ".conv1", Silu(Norm(prefix + ".norm1", x)), 3);
        h = Conv(prefix + ".conv2", Silu(Norm(prefix + ".norm2", h)), 3);
        var shortcut = weights.Contains(prefix + ".conv_shortcut.weight") ? Conv(prefix + ".conv_shortcut", x, 1) : x;
        return Add(shortcut, h);
    }

    /// <summary>One head over the H·W pixels: x + to_out(softmax(q·kᵀ/√C)·v), q, k, v from GroupNorm(x).</summary>
    public RefImage Attention(string prefix, RefImage x)
    {
        var n = Norm(prefix + ".group_norm", x);
        int t = x.H * x.W, c = x.C;
        double[] Project(string name, double[][] rows)
        {
            var w = W($"{prefix}.{name}.weight");
            var bias = W($"{prefix}.{name}.bias");
            var y = new double[rows.Length * c];
            for (int r = 0; r < rows.Length; r++)
                for (int o = 0; o < c; o++)
                {
                    double s = bias[o];
                    for (int i = 0; i < c; i++) s += w[o * c + i] * rows[r][i];
                    y[r * c + o] = s;
                }
            return y;
        }
        var y = RefImage.Zeros(x.B, x.C, x.H, x.W);
        for (int b = 0; b < x.B; b++)
        {
            var tokens = Enumerable.Range(0, t).Select(p => Enumerable.Range(0, c).Select(ch => n[b, ch, p / x.W, p % x.W]).ToArray())
                .ToArray();
            double[] q = Project("to_q", tokens), k = Project("to_k", tokens), v = Project("to_v", tokens);
            var attended = new double[t][];
            for (int i = 0; i < t; i++)
            {
                var scores = new double[t];
                for (int j = 0; j < t; j++)
                {
                    double s = 0;
                    for (int d = 0; d < c; d++) s += q[i * c + d] * k[j * c + d];
                    scores[j] = s / Math.Sqrt(c);
                }
                double max = scores.Max(), total = scores.Sum(s => Math.Exp(s - max));
                attended[i] = new double[c];
                for (int j = 0; j < t; j++)
                {
                    double p = Math.Exp(scores[j] - max) / total;
                    for (int d = 0; d < c; d++) attended[i][d] += p * v[j * c + d];
                }
            }
            var o = Project("to_out.0", attended);
            for (int p = 0; p < t; p++)
                for (int ch = 0; ch < c; ch++) y[b, ch, p / x.W, p % x.W] = o[p * c + ch] + x[b, ch, p / x.W, p % x.W];
        }
        return y;
    }

    RefImage Mid(string prefix, RefImage x)
    {
        x = Resnet(prefix + ".resnets.0", x);
        if (midAttention) x = Attention(prefix + ".attentions.0", x);
        return Resnet(prefix + ".resnets.1", x);
    }

    public static RefImage UpsampleNearest(RefImage x)
    {
        var y = RefImage.Zeros(x.B, x.C, 2 * x.H, 2 * x.W);
        for (int b = 0; b < x.B; b++)
            for (int c = 0; c < x.C; c++)
                for (int i = 0; i < 2 * x.H; i++) for (int j = 0; j < 2 * x.W; j++) y[b, c, i, j] = x[b, c, i / 2, j / 2];
        return y;
    }

    /// <summary>The encoder's moments [B, 2L, h, w] (mean, then the unclamped log-variance) and its mid block's output.</summary>
    public (RefImage Moments, RefImage Mid) Encode(RefImage image)
    {
        var x = Conv("encoder.conv_in", image, 3);
        for (int i = 0; i < Levels; i++)
        {
            for (int j = 0; j < layersPerBlock; j++) x = Resnet($"encoder.down_blocks.{i}.resnets.{j}", x);
            if (i < Levels - 1) x = Conv($"encoder.down_blocks.{i}.downsamplers.0.conv", x, 3, stride: 2, downsample: true);
        }
        var mid = Mid("encoder.mid_block", x);
        var moments = Conv("encoder.conv_out", Silu(Norm("encoder.conv_norm_out", mid)), 3);
        if (weights.Contains("quant_conv.weight")) moments = Conv("quant_conv", moments, 1);
        return (moments, mid);
    }

    public (RefImage Image, RefImage Mid) Decode(RefImage latents)
    {
        if (weights.Contains("post_quant_conv.weight")) latents = Conv("post_quant_conv", latents, 1);
        var mid = Mid("decoder.mid_block", Conv("decoder.conv_in", latents, 3));
        var x = mid;
        for (int i = 0; i < Levels; i++)
        {
            for (int j = 0; j <= layersPerBlock; j++) x = Resnet($"decoder.up_blocks.{i}.resnets.{j}", x);
            if (i < Levels - 1) x = Conv($"decoder.up_blocks.{i}.upsamplers.0.conv", UpsampleNearest(x), 3);
        }
        return (Conv("decoder.conv_out", Silu(Norm("decoder.conv_norm_out", x)), 3), mid);
    }
}
