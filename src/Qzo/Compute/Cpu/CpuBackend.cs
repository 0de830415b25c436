using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Qzo.Numerics;

namespace Qzo.Compute.Cpu;

/// <summary>
/// The reference backend: plain C# over fp32, parallel over rows where the work is large enough.
/// Every other backend is tested against this one.
/// </summary>
internal sealed partial class CpuBackend : IBackend
{
    public string Name => "cpu";
    public DType ComputeType => DType.F32;
    public MemoryTracker Memory { get; } = new();

    public DeviceTensor Allocate(DType dtype, long length, MemoryCategory category) =>
        new CpuTensor(dtype, length, category, Memory);

    public unsafe void Upload<T>(DeviceTensor destination, ReadOnlySpan<T> source, long offset = 0) where T : unmanaged
    {
        var t = Cpu(destination);
        CheckRange(t, offset, source.Length, sizeof(T));
        source.CopyTo(new Span<T>((byte*)t.Pointer + offset * sizeof(T), source.Length));
    }

    public unsafe void Download<T>(DeviceTensor source, Span<T> destination, long offset = 0) where T : unmanaged
    {
        var t = Cpu(source);
        CheckRange(t, offset, destination.Length, sizeof(T));
        new ReadOnlySpan<T>((byte*)t.Pointer + offset * sizeof(T), destination.Length).CopyTo(destination);
    }

    public unsafe void Copy(DeviceTensor source, DeviceTensor destination, long count)
    {
        var s = Cpu(source); var d = Cpu(destination);
        if (s.DType != d.DType) throw new ArgumentException("copy between different element types");
        long bytes = count * s.DType.SizeInBytes();
        if (bytes > s.ByteLength || bytes > d.ByteLength) throw new ArgumentOutOfRangeException(nameof(count));
        Buffer.MemoryCopy(s.Pointer, d.Pointer, d.ByteLength, bytes);
    }

    public void MatMulTransposedB(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool accumulate = false) =>
        Sgemm.MatMulTransposedB(F(a), F(b), F(c), m, n, k, accumulate);

    public void MatMulTransposedBAddBias(DeviceTensor a, DeviceTensor b, DeviceTensor bias, DeviceTensor c, int m, int n, int k)
    {
        MatMulTransposedB(a, b, c, m, n, k);
        AddBiasInPlace(c, bias, m, n);
    }

    public void MatMul(DeviceTensor a, DeviceTensor b, DeviceTensor c, int m, int n, int k, bool accumulate = false) =>
        Sgemm.MatMul(F(a), F(b), F(c), m, n, k, accumulate);

    public void EmbeddingGather(DeviceTensor table, DeviceTensor ids, DeviceTensor output, int rows, int dim)
    {
        var src = F(table); var id = I(ids); var dst = F(output);
        int vocab = src.Length / dim;
        for (int r = 0; r < rows; r++)
        {
            int token = id[r];
            if ((uint)token >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(ids),
                $"token id {token} is outside the vocabulary (0..{vocab - 1})");
            src.Slice(token * dim, dim).CopyTo(dst.Slice(r * dim, dim));
        }
    }

    public void RmsNorm(DeviceTensor x, DeviceTensor weight, DeviceTensor y, int rows, int dim, float eps)
    {
        var xt = Cpu(x); var wt = Cpu(weight); var yt = Cpu(y);
        ParallelRows(rows, (long)rows * dim, r =>
        {
            var row = xt.Span<float>().Slice(r * dim, dim);
            var output = yt.Span<float>().Slice(r * dim, dim);
            float meanSquare = TensorPrimitives.SumOfSquares(row) / dim;
            TensorPrimitives.Multiply(row, 1.0f / MathF.Sqrt(meanSquare + eps), output);
            TensorPrimitives.Multiply(output, wt.Span<float>().Slice(0, dim), output);
        });
    }

    public void ApplyRope(DeviceTensor x, DeviceTensor positions, DeviceTensor cos, DeviceTensor sin, int rows, int heads, int headDim)
    {
        var xt = Cpu(x); var ct = RequireType(cos, DType.F32); var st = RequireType(sin, DType.F32);
        int half = headDim / 2;
        var positionsCopy = I(positions).Slice(0, rows).ToArray();
        ParallelRows(rows, (long)rows * heads * headDim * 4, r =>
        {
            var c = ct.Span<float>().Slice(positionsCopy[r] * half, half);
            var s = st.Span<float>().Slice(positionsCopy[r] * half, half);
            var row = xt.Span<float>().Slice(r * heads * headDim, heads * headDim);
            for (int h = 0; h < heads; h++)
            {
                var v = row.Slice(h * headDim, headDim);
                for (int i = 0; i < half; i++)
                {
                    float a = v[i], b = v[i + half];
                    v[i] = a * c[i] - b * s[i];
                    v[i + half] = b * c[i] + a * s[i];
                }
            }
        });
    }

    public void CausalAttention(DeviceTensor q, DeviceTensor k, DeviceTensor v, DeviceTensor keyMask, DeviceTensor output,
                                int batch, int seq, int heads, int kvHeads, int headDim, int slidingWindow, float scale = 0) =>
        // a cache holding just these tokens
        CachedAttention(q, k, v, keyMask, output, batch, seq, seq, seq, heads, kvHeads, headDim, slidingWindow, scale);

    public void CachedAttention(DeviceTensor q, DeviceTensor keys, DeviceTensor values, DeviceTensor keyMask, DeviceTensor output,
                                int batch, int newTokens, int cacheLength, int maxLength, int heads, int kvHeads, int headDim,
                                int slidingWindow, float scale = 0)
    {
        if (heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads cannot share {kvHeads} key/value heads");
        if (slidingWindow < 0) throw new ArgumentOutOfRangeException(nameof(slidingWindow),
            "the sliding window must be positive, or 0 for none");
        if (newTokens > cacheLength || cacheLength > maxLength)
            throw new ArgumentOutOfRangeException(nameof(cacheLength),
                $"{newTokens} new tokens, {cacheLength} cached, room for {maxLength}");
        var qt = Cpu(q); var kt = Cpu(keys); var vt = Cpu(values); var mt = Cpu(keyMask); var ot = Cpu(output);
        int group = heads / kvHeads, firstSlot = cacheLength - newTokens;
        if (scale == 0) scale = 1.0f / MathF.Sqrt(headDim);
        Parallel.For(0, batch * heads, bh =>
        {
            int b = bh / heads, h = bh % heads, kvh = h / group;
            var qs = qt.Span<float>(); var ks = kt.Span<float>(); var vs = vt.Span<float>();
            var mask = mt.Span<int>().Slice(b * maxLength, maxLength); var os = ot.Span<float>();
            var scores = new float[cacheLength];
            for (int t = 0; t < newTokens; t++)
            {
                int i = firstSlot + t;
                var qi = qs.Slice(((b * newTokens + t) * heads + h) * headDim, headDim);
                float max = float.NegativeInfinity;
                int first = slidingWindow > 0 ? Math.Max(0, i - slidingWindow + 1) : 0;
                for (int j = first; j <= i; j++)
                {
                    if (mask[j] == 0) { scores[j] = float.NegativeInfinity; continue; }
                    scores[j] = TensorPrimitives.Dot(qi, ks.Slice(((b * maxLength + j) * kvHeads + kvh) * headDim, headDim)) * scale;
                    max = MathF.Max(max, scores[j]);
                }
                var oi = os.Slice(((b * newTokens + t) * heads + h) * headDim, headDim);
                oi.Clear();
                if (float.IsNegativeInfinity(max)) continue; // a query with no visible key (padding): its output is unused
                float sum = 0;
                for (int j = first; j <= i; j++)
                {
                    float e = mask[j] == 0 ? 0f : MathF.Exp(scores[j] - max);
                    scores[j] = e;
                    sum += e;
                }
                float inverse = 1.0f / sum;
                for (int j = first; j <= i; j++)
                {
                    if (scores[j] == 0f) continue;
                    TensorPrimitives.MultiplyAdd(vs.Slice(((b * maxLength + j) * kvHeads + kvh) * headDim, headDim), scores[j] * inverse,
                        oi, oi);
                }
            }
        });
    }

    public void AppendToCache(DeviceTensor rows, DeviceTensor cache, int batch, int count, int start, int maxLength, int width)
    {
        if (start + count > maxLength) throw new ArgumentOutOfRangeException(nameof(count),
            $"{count} rows at slot {start} overflow a cache of {maxLength}");
        var source = F(rows); var destination = F(cache);
        for (int b = 0; b < batch; b++)
            source.Slice(b * count * width, count * width).CopyTo(destination.Slice((b * maxLength + start) * width, count * width));
    }

    public void LayerNorm(DeviceTensor x, DeviceTensor? weight, DeviceTensor? bias, DeviceTensor y, int rows, int dim, float eps)
    {
        var xt = Cpu(x); var yt = Cpu(y);
        var wt = weight is null ? null : RequireType(weight, DType.F32);
        var bt = bias is null ? null : RequireType(bias, DType.F32);
        ParallelRows(rows, (long)rows * dim, r =>
        {
            var row = xt.Span<float>().Slice(r * dim, dim);
            var output = yt.Span<float>().Slice(r * dim, dim);
            float mean = TensorPrimitives.Sum(row) / dim;
            TensorPrimitives.Subtract(row, mean, output);
            float variance = TensorPrimitives.SumOfSquares(output) / dim;
            TensorPrimitives.Multiply(output, 1.0f / MathF.Sqrt(variance + eps), output);
            if (wt is not null) TensorPrimitives.Multiply(output, wt.Span<float>().Slice(0, dim), output);
            if (bt is not null) TensorPrimitives.Add(output, bt.Span<float>().Slice(0, dim), output);
        });
    }

    public void SiluMulInPlace(DeviceTensor gate, DeviceTensor up, long count)
    {
        var g = Cpu(gate); var u = Cpu(up);
        ParallelChunks(count, (start, length) =>
        {
            var gs = g.Span<float>().Slice((int)start, length);
            var us = u.Span<float>().Slice((int)start, length);
            for (int i = 0; i < gs.Length; i++) gs[i] = gs[i] / (1.0f + MathF.Exp(-gs[i])) * us[i];
        });
    }

    public void ReluInPlace(DeviceTensor x, long count)
    {
        var xs = F(x).Slice(0, checked((int)count));
        TensorPrimitives.Max(xs, 0f, xs);
    }

    public void AddInPlace(DeviceTensor x, DeviceTensor y, long count)
    {
        var xs = F(x).Slice(0, checked((int)count));
        TensorPrimitives.Add(xs, F(y).Slice(0, (int)count), xs);
    }

    public void AddBiasInPlace(DeviceTensor x, DeviceTensor bias, int rows, int dim)
    {
        var xs = F(x); var bs = F(bias).Slice(0, dim);
        for (int r = 0; r < rows; r++)
        {
            var row = xs.Slice(r * dim, dim);
            TensorPrimitives.Add(row, bs, row);
        }
    }

    public void CrossEntropyRows(DeviceTensor logits, DeviceTensor targets, DeviceTensor nll, int rows, int vocab)
    {
        var lt = Cpu(logits); var tt = Cpu(targets); var nt = Cpu(nll);
        ParallelRows(rows, (long)rows * vocab * 4, r =>
        {
            int target = tt.Span<int>()[r];
            if (target < 0) { nt.Span<float>()[r] = 0f; return; }
            if (target >= vocab) throw new ArgumentOutOfRangeException(nameof(targets),
                $"target id {target} is outside the vocabulary (0..{vocab - 1})");
            var row = lt.Span<float>().Slice(r * vocab, vocab);
            float max = TensorPrimitives.Max(row);
            double sum = 0;
            for (int j = 0; j < row.Length; j++) sum += Math.Exp(row[j] - max);
            nt.Span<float>()[r] = (float)(Math.Log(sum) + max - row[target]);
        });
    }

    public void PerturbedCopy(DeviceTensor master, Perturbation p, int tensorIndex, DeviceTensor output, long count)
    {
        var m = Cpu(master); var o = Cpu(output);
        ParallelChunks(count, (start, length) =>
        {
            var ms = m.Span<float>().Slice((int)start, length);
            var os = o.Span<float>().Slice((int)start, length);
            if (p.IsNone) { ms.CopyTo(os); return; }
            for (int i = 0; i < length; i++) os[i] = GaussianDirection.Step(ms[i], p.Scale, GaussianDirection.Z(p.Seed, tensorIndex,
                start + i));
        });
    }

    public void ZerothOrderUpdate(DeviceTensor master, ulong seed, int tensorIndex, float step, float? floor, long count)
    {
        var m = Cpu(master);
        float lowest = floor ?? float.NegativeInfinity;
        ParallelChunks(count, (start, length) =>
        {
            var ms = m.Span<float>().Slice((int)start, length);
            for (int i = 0; i < length; i++)
                ms[i] = MathF.Max(GaussianDirection.Step(ms[i], -step, GaussianDirection.Z(seed, tensorIndex, start + i)), lowest);
        });
    }

    /// <summary>output[i] = master[i] + p.Scale·z(p.Seed, tensorIndex, i): a linear's scales as one forward pass sees them.</summary>
    internal static void PerturbedCopyInto(ReadOnlySpan<float> master, Perturbation p, int tensorIndex, float[] output)
    {
        master.Slice(0, output.Length).CopyTo(output);
        if (p.IsNone) return;
        ParallelChunks(output.Length, (start, length) =>
        {
            for (long i = start; i < start + length; i++)
                output[i] = GaussianDirection.Step(output[i], p.Scale, GaussianDirection.Z(p.Seed, tensorIndex, i));
        });
    }

    public void FillRandom(DeviceTensor t, RandomFill kind, ulong seed, int stream, float a, float b, long count)
    {
        var tensor = Cpu(t);
        ParallelChunks(count, (start, length) =>
        {
            for (int k = 0; k < length; k++)
            {
                long i = start + k;
                switch (kind)
                {
                    case RandomFill.Bits: tensor.Span<int>()[(int)i] = (int)RandomValues.Bits(seed, stream, i); break;
                    case RandomFill.Uniform: tensor.Span<float>()[(int)i] = RandomValues.Uniform(seed, stream, i, a, b); break;
                    default: tensor.Span<float>()[(int)i] = GaussianDirection.Step(a, b, GaussianDirection.Z(seed, stream, i)); break;
                }
            }
        });
    }

    public void Synchronize() { }

    public void Dispose() { }

    internal static CpuTensor Cpu(DeviceTensor t) => t as CpuTensor ?? throw new ArgumentException("tensor belongs to another backend");
    internal static Span<float> F(DeviceTensor t) => RequireType(t, DType.F32).Span<float>();
    internal static Span<int> I(DeviceTensor t) => RequireType(t, DType.I32).Span<int>();

    internal static CpuTensor RequireType(DeviceTensor t, DType type)
    {
        var c = Cpu(t);
        if (c.DType != type) throw new ArgumentException($"expected a {type} tensor, got {c.DType}");
        return c;
    }

    static void CheckRange(DeviceTensor t, long offset, long count, int elementSize)
    {
        if (offset < 0 || (offset + count) * elementSize > t.ByteLength)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{count} elements at {offset} do not fit a {t.ByteLength}-byte buffer");
    }

    const long ParallelThreshold = 1 << 16;

    internal static void ParallelRows(int rows, long work, Action<int> body)
    {
        if (work < ParallelThreshold || rows == 1) { for (int r = 0; r < rows; r++) body(r); return; }
        Parallel.For(0, rows, body);
    }

    internal static void ParallelChunks(long count, Action<long, int> body)
    {
        const int chunk = 1 << 14;
        long chunks = (count + chunk - 1) / chunk;
        if (chunks <= 1) { if (count > 0) body(0, (int)count); return; }
        Parallel.For(0L, chunks, c => body(c * chunk, (int)Math.Min(chunk, count - c * chunk)));
    }
}
