using System.Numerics.Tensors;
using Qzo.Numerics;

namespace Qzo.Compute.Cpu;

/// <summary>Full (non-causal) attention: one task per (batch, head, query), scores of one query at a time.</summary>
internal sealed partial class CpuBackend
{
    public void Attention(DeviceTensor q, DeviceTensor k, DeviceTensor v, DeviceTensor? bias, DeviceTensor output, int batch, int queries,
                          int keys, int heads, int headDim, float scale = 0)
    {
        if (keys <= 0) throw new ArgumentException("attention needs at least one key");
        long queryLength = (long)batch * queries * heads * headDim, keyLength = (long)batch * keys * heads * headDim;
        var qt = Sized(q, DType.F32, queryLength, nameof(q)); var ot = Sized(output, DType.F32, queryLength, nameof(output));
        var kt = Sized(k, DType.F32, keyLength, nameof(k)); var vt = Sized(v, DType.F32, keyLength, nameof(v));
        var bt = bias is null ? null : Sized(bias, DType.F32, (long)heads * queries * keys, nameof(bias));
        if (scale == 0) scale = 1f / MathF.Sqrt(headDim);
        Parallel.For(0, batch * heads * queries, () => new float[keys], (index, _, scores) =>
        {
            int i = index % queries, h = index / queries % heads, b = index / queries / heads;
            var qs = qt.Span<float>(); var ks = kt.Span<float>(); var vs = vt.Span<float>();
            var qi = qs.Slice(((b * queries + i) * heads + h) * headDim, headDim);
            for (int j = 0; j < keys; j++)
                scores[j] = TensorPrimitives.Dot(qi, ks.Slice(((b * keys + j) * heads + h) * headDim, headDim)) * scale;
            if (bt is not null) TensorPrimitives.Add(scores, bt.Span<float>().Slice((h * queries + i) * keys, keys), scores);
            float max = TensorPrimitives.Max(scores);
            var oi = ot.Span<float>().Slice(((b * queries + i) * heads + h) * headDim, headDim);
            oi.Clear();
            if (float.IsNegativeInfinity(max)) return scores; // every key masked by a −∞ bias
            TensorPrimitives.Subtract(scores, max, scores);
            TensorPrimitives.Exp(scores, scores);
            TensorPrimitives.Multiply(scores, 1f / TensorPrimitives.Sum(scores), scores);
            for (int j = 0; j < keys; j++)
                TensorPrimitives.MultiplyAdd(vs.Slice(((b * keys + j) * heads + h) * headDim, headDim), scores[j], oi, oi);
            return scores;
        }, _ => { });
    }
}
