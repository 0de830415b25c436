using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// The random values and config.json pieces every family's synthesis shares: Gaussian draws from the project's own Philox
/// stream (one stream per tensor index), optionally with a low-rank part and outlier channels (<see cref="SynthOptions"/>).
/// </summary>
static class SynthValues
{
    /// <summary>A linear's weight [out, in], standard deviation 1/sqrt(in) unless <see cref="SynthOptions.InitStd"/> says.</summary>
    public static Architectures.SynthTensor Weight(SynthOptions o, string prefix, int outF, int inF) =>
        new(prefix + ".weight", [outF, inF], t => Structured(o, t, outF, inF, o.InitStd ?? 1f / MathF.Sqrt(inF)));

    /// <summary>lm_head [vocab, width], scaled for logits of the spread <see cref="SynthOptions.LogitScale"/>.</summary>
    public static Architectures.SynthTensor LmHead(SynthOptions o, int width) =>
        new("lm_head.weight", [o.Vocab, width], t => Gaussian(o, t, (long)o.Vocab * width, o.LogitScale / MathF.Sqrt(width)));

    public static float[] Embedding(SynthOptions o, int t, int vocab, int width)
    {
        var values = Structured(o, t, vocab, width, 1f);
        if (o.Outliers > 0)
            for (int k = 0; k < o.Outliers; k++)
            {
                int channel = k * (width / o.Outliers) + 1;
                for (long r = 0; r < vocab; r++) values[r * width + channel] *= ModelSynthesizer.OutlierScale;
            }
        return values;
    }

    /// <summary>
    /// [rows, columns] Gaussian with standard deviation <paramref name="std"/>; with a low rank r, the sum of an
    /// independent part and a rank-r product A·B (A, B Gaussian, from streams of their own) holding
    /// <see cref="ModelSynthesizer.LowRankShare"/> of the variance, so the overall scale is unchanged.
    /// </summary>
    static float[] Structured(SynthOptions o, int t, int rows, int columns, float std)
    {
        const float share = ModelSynthesizer.LowRankShare;
        if (o.LowRank is not int rank) return Gaussian(o, t, (long)rows * columns, std);
        var values = Gaussian(o, t, (long)rows * columns, std * MathF.Sqrt(1 - share));
        var a = Gaussian(o, t | 1 << 20, (long)rows * rank, 1f);
        var b = Gaussian(o, t | 2 << 20, (long)rank * columns, std * MathF.Sqrt(share / rank));
        Sgemm.MatMul(a, b, values, rows, columns, rank, accumulate: true);
        return values;
    }

    public static float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();

    public static float[] Gaussian(SynthOptions o, int tensor, long count, float std)
    {
        var values = new float[count];
        Parallel.For(0, (int)((count + 65535) / 65536), chunk =>
        {
            long start = chunk * 65536L;
            var span = values.AsSpan((int)start, (int)Math.Min(65536, count - start));
            GaussianDirection.Fill(o.Seed ^ 0x5147_4E54_0000_0000UL, tensor, start, span);
            System.Numerics.Tensors.TensorPrimitives.Multiply(span, std, span);
        });
        return values;
    }

    /// <summary>config.json's `dtype` for the options' dtype.</summary>
    public static string DTypeName(SynthOptions o) => o.DType switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" };

    /// <summary>A copy of <paramref name="o"/> with its keys in ordinal order, as transformers writes config.json.</summary>
    public static JsonObject Sorted(JsonObject o) => new(o.OrderBy(kv => kv.Key, StringComparer.Ordinal)
        .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
}
