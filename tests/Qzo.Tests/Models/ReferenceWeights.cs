using Qzo.Models;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Models.Architectures.Opt;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Gptq;

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
        Qzo.Models.Architectures.Gemma3.Gemma3Config => new ReferenceGemma3(checkpoint, perturb),
        _ => throw new NotSupportedException(checkpoint.Config.Architecture.Name),
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
/// A checkpoint's tensors widened to double, quantized layers dequantized with the formats' plain references
/// (<see cref="GptqReference"/>, <see cref="AqlmReference"/>, <see cref="Bnb4BitReference"/>);
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
            string prefix = name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^".weight".Length] : name;
            var t = _checkpoint.Tensors;
            float[] values =
                t.Contains(prefix + ".qweight") ? Gptq(prefix)
                : t.Contains(prefix + ".codes") ? Aqlm(prefix)
                : t.Contains(prefix + Bnb4BitLinearTensors.AbsmaxSuffix) ? Bnb4Bit(prefix)
                : _perturb(name, t.ReadFloat32(name));
            return _cache[name] = values.Select(v => (double)v).ToArray();
        }
    }

    /// <summary>A GPTQ linear dequantized with (possibly perturbed) scales.</summary>
    float[] Gptq(string prefix)
    {
        var t = _checkpoint.Tensors;
        var g = _checkpoint.Gptq!;
        int outF = (int)t.Get(prefix + ".scales").Shape[1];
        int inF = (int)t.Get(prefix + ".g_idx").Shape[0];
        var scales = _perturb(prefix + ".scales", t.ReadFloat32(prefix + ".scales"));
        return GptqReference.Dequantize(t.ReadInt32(prefix + ".qweight"), t.ReadInt32(prefix + ".qzeros"), scales,
                                        t.ReadInt32(prefix + ".g_idx"), inF, outF, g.Bits, g.Format);
    }

    /// <summary>An AQLM linear dequantized with (possibly perturbed) scales.</summary>
    float[] Aqlm(string prefix)
    {
        var t = _checkpoint.Tensors;
        var scheme = ((AqlmConfig)_checkpoint.Quantization!).Scheme;
        var codesInfo = t.Get(prefix + ".codes");
        int outF = (int)codesInfo.Shape[0] * scheme.OutGroupSize, inF = (int)codesInfo.Shape[1] * scheme.InGroupSize;
        var codes = AqlmCodes.Unpack(t.FileOf(codesInfo.Name).GetBytes(codesInfo.Name), codesInfo.DType, scheme.CodebookBits);
        var scales = _perturb(prefix + ".scales", t.ReadFloat32(prefix + ".scales"));
        return AqlmReference.Dequantize(codes, t.ReadFloat32(prefix + ".codebooks"), scales, scheme, outF, inF);
    }

    /// <summary>
    /// A bitsandbytes 4-bit linear dequantized with its (possibly perturbed) fp32 absmax, decoded from the nested form when
    /// double-quantized.
    /// </summary>
    float[] Bnb4Bit(string prefix)
    {
        var t = _checkpoint.Tensors;
        var stateName = t.Names.Single(n => n.StartsWith(prefix + Bnb4BitQuantState.TensorInfix, StringComparison.Ordinal));
        var state = Bnb4BitQuantState.Parse(t.FileOf(stateName).GetBytes(stateName), stateName);
        string absmaxName = prefix + Bnb4BitLinearTensors.AbsmaxSuffix;
        var absmax = state.Nested
            ? new NestedAbsmax(t.FileOf(absmaxName).GetBytes(absmaxName).ToArray(),
                               t.ReadFloat32(prefix + Bnb4BitLinearTensors.NestedAbsmaxSuffix),
                               t.ReadFloat32(prefix + Bnb4BitLinearTensors.NestedQuantMapSuffix), state.NestedBlockSize!.Value,
                               state.NestedOffset!.Value).Decode()
            : t.ReadFloat32(absmaxName);
        long count = state.Shape[0] * state.Shape[1];
        return Bnb4BitReference.Dequantize(t.FileOf(prefix + ".weight").GetBytes(prefix + ".weight"), _perturb(absmaxName, absmax),
                                           FourBitCode.For(state.QuantType).Values, state.BlockSize, count);
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

    /// <summary>
    /// softmax(q·kᵀ/√d)·v per head over the keys <paramref name="visible"/> allows; kv head = h / (heads / kvHeads).
    /// </summary>
    public static double[][] Attention(double[][] q, double[][] k, double[][] v, int heads, int kvHeads, int hd,
        Func<int, int, bool> visible)
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
                var scores = keys.Select(j => Enumerable.Range(0, hd).Sum(d => q[t][h * hd + d] * k[j][kvh * hd + d]) / Math.Sqrt(hd))
                    .ToArray();
                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int n = 0; n < keys.Length; n++)
                    for (int d = 0; d < hd; d++) output[t][h * hd + d] += Math.Exp(scores[n] - max) / sum * v[keys[n]][kvh * hd + d];
            }
        }
        return output;
    }

    public static void Add(double[] x, double[] y) { for (int i = 0; i < x.Length; i++) x[i] += y[i]; }
}
