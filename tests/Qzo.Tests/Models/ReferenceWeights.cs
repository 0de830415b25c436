using Qzo.Models;
using Qzo.Quantization;

namespace Qzo.Tests.Models;

/// <summary>A forward pass written plainly in double precision, to check a model against.</summary>
interface IReferenceModel
{
    /// <summary>Logits [T, V] of one unpadded sequence.</summary>
    double[][] Logits(int[] ids);
}

static class ReferenceModels
{
    public static IReferenceModel For(Checkpoint checkpoint, Func<string, float[], float[]>? perturb = null) => checkpoint.Config switch
    {
        LlamaConfig => new ReferenceLlama(checkpoint, perturb),
        OptConfig => new ReferenceOpt(checkpoint, perturb),
        _ => throw new NotSupportedException(checkpoint.Config.Architecture.ToString()),
    };

    /// <summary>Mean NLL of ids[1..] given the prefixes (every token after the first scored).</summary>
    public static double Loss(this IReferenceModel model, int[] ids)
    {
        var logits = model.Logits(ids);
        double total = 0;
        for (int t = 0; t + 1 < ids.Length; t++)
        {
            double max = logits[t].Max();
            total += Math.Log(logits[t].Sum(z => Math.Exp(z - max))) + max - logits[t][ids[t + 1]];
        }
        return total / (ids.Length - 1);
    }
}

/// <summary>
/// A checkpoint's tensors widened to double, GPTQ layers dequantized with <see cref="GptqReference.Dequantize"/>;
/// <c>perturb</c> may replace any tensor's values by name first.
/// </summary>
sealed class ReferenceWeights
{
    readonly Checkpoint _checkpoint;
    readonly Func<string, float[], float[]> _perturb;
    readonly Dictionary<string, double[]> _cache = new();

    public ReferenceWeights(Checkpoint checkpoint, Func<string, float[], float[]>? perturb)
    {
        _checkpoint = checkpoint;
        _perturb = perturb ?? ((_, v) => v);
    }

    public bool Has(string name) => _checkpoint.Tensors.Contains(name);

    public double[] this[string name]
    {
        get
        {
            if (_cache.TryGetValue(name, out var cached)) return cached;
            double[] values;
            if (_checkpoint.Tensors.Contains(name)) values = _perturb(name, _checkpoint.Tensors.ReadFloat32(name)).Select(v => (double)v).ToArray();
            else
            {
                // A GPTQ linear: name is "<prefix>.weight"; dequantize with (possibly perturbed) scales.
                string prefix = name[..^".weight".Length];
                var g = _checkpoint.Gptq!;
                int outF = (int)_checkpoint.Tensors.Get(prefix + ".scales").Shape[1];
                int inF = (int)_checkpoint.Tensors.Get(prefix + ".g_idx").Shape[0];
                var scales = _perturb(prefix + ".scales", _checkpoint.Tensors.ReadFloat32(prefix + ".scales"));
                values = GptqReference.Dequantize(_checkpoint.Tensors.ReadInt32(prefix + ".qweight"), _checkpoint.Tensors.ReadInt32(prefix + ".qzeros"),
                    scales, _checkpoint.Tensors.ReadInt32(prefix + ".g_idx"), inF, outF, g.Bits, g.Format).Select(v => (double)v).ToArray();
            }
            return _cache[name] = values;
        }
    }

    /// <summary>y = W·x (+ b when the checkpoint has `prefix.bias`).</summary>
    public double[] Linear(double[] input, string prefix)
    {
        var w = this[prefix + ".weight"];
        int inF = input.Length, outF = w.Length / inF;
        var y = Has(prefix + ".bias") ? (double[])this[prefix + ".bias"].Clone() : new double[outF];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++) y[o] += w[o * inF + i] * input[i];
        return y;
    }

    /// <summary>softmax(q·kᵀ/√d)·v per head over the keys <paramref name="visible"/> allows; kv head = h / (heads / kvHeads).</summary>
    public static double[][] Attention(double[][] q, double[][] k, double[][] v, int heads, int kvHeads, int hd, Func<int, int, bool> visible)
    {
        int T = q.Length;
        var output = new double[T][];
        for (int t = 0; t < T; t++)
        {
            output[t] = new double[heads * hd];
            for (int h = 0; h < heads; h++)
            {
                int kvh = h / (heads / kvHeads);
                var keys = Enumerable.Range(0, T).Where(j => visible(t, j)).ToArray();
                var scores = keys.Select(j => Enumerable.Range(0, hd).Sum(d => q[t][h * hd + d] * k[j][kvh * hd + d]) / Math.Sqrt(hd)).ToArray();
                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int n = 0; n < keys.Length; n++)
                    for (int d = 0; d < hd; d++) output[t][h * hd + d] += Math.Exp(scores[n] - max) / sum * v[keys[n]][kvh * hd + d];
            }
        }
        return output;
    }

    public static void Add(double[] x, double[] y) { for (int i = 0; i < x.Length; i++) x[i] += y[i]; }
}
