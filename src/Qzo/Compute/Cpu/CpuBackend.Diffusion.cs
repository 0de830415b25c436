using System.Numerics.Tensors;
using Qzo.Numerics;

namespace Qzo.Compute.Cpu;

/// <summary>The element-wise and normalization operations of <see cref="IBackend"/>'s Diffusion part, in fp32.</summary>
internal sealed partial class CpuBackend
{
    public void GroupNorm(DeviceTensor x, DeviceTensor weight, DeviceTensor bias, DeviceTensor y, int batch, int channels, int spatial,
                          int groups, float eps)
    {
        if (groups <= 0 || channels % groups != 0)
            throw new ArgumentException($"{channels} channels do not split into {groups} groups");
        long size = (long)batch * channels * spatial;
        var xt = Sized(x, DType.F32, size, nameof(x)); var yt = Sized(y, DType.F32, size, nameof(y));
        var w = Sized(weight, DType.F32, channels, nameof(weight)); var bt = Sized(bias, DType.F32, channels, nameof(bias));
        int perGroup = channels / groups, length = perGroup * spatial;
        ParallelRows(batch * groups, size, bg =>
        {
            int b = bg / groups, g = bg % groups;
            var values = xt.Span<float>().Slice((b * channels + g * perGroup) * spatial, length);
            double sum = 0;
            foreach (float v in values) sum += v;
            float mean = (float)(sum / length);
            double squares = 0;
            foreach (float v in values) squares += (double)(v - mean) * (v - mean);
            float inverse = 1f / MathF.Sqrt((float)(squares / length) + eps);
            var output = yt.Span<float>().Slice((b * channels + g * perGroup) * spatial, length);
            for (int c = 0; c < perGroup; c++)
            {
                float scale = inverse * w.Span<float>()[g * perGroup + c], shift = bt.Span<float>()[g * perGroup + c];
                var from = values.Slice(c * spatial, spatial); var to = output.Slice(c * spatial, spatial);
                for (int i = 0; i < spatial; i++) to[i] = (from[i] - mean) * scale + shift;
            }
        });
    }

    public void UpsampleNearest2x(DeviceTensor x, DeviceTensor y, int planes, int height, int width)
    {
        var xt = Sized(x, DType.F32, (long)planes * height * width, nameof(x));
        var yt = Sized(y, DType.F32, (long)planes * height * width * 4, nameof(y));
        ParallelRows(planes * height, (long)planes * height * width * 4, row =>
        {
            var from = xt.Span<float>().Slice(row * width, width);
            var to = yt.Span<float>().Slice(row * 4 * width, 4 * width); // output rows 2i and 2i + 1 of the plane
            for (int j = 0; j < width; j++) to[2 * j] = to[2 * j + 1] = from[j];
            to[..(2 * width)].CopyTo(to[(2 * width)..]);
        });
    }

    public void ActivationInPlace(DeviceTensor x, Activation activation, long count)
    {
        var xt = Sized(x, DType.F32, count, nameof(x));
        Func<float, float> f = activation switch
        {
            Activation.Silu => v => v / (1f + MathF.Exp(-v)),
            Activation.GeluTanh => GeluTanh,
            Activation.GeluErf => GeluErf,
            Activation.QuickGelu => v => v / (1f + MathF.Exp(-1.702f * v)),
            _ => throw new ArgumentOutOfRangeException(nameof(activation), $"unknown activation {activation}"),
        };
        ParallelChunks(count, (start, length) =>
        {
            var xs = xt.Span<float>().Slice((int)start, length);
            for (int i = 0; i < xs.Length; i++) xs[i] = f(xs[i]);
        });
    }

    /// <summary>x/2 · erfc(−x/√2), which is x/2 · (1 + erf(x/√2)) without the cancellation for negative x.</summary>
    internal static float GeluErf(float x) => 0.5f * x * Erfc.Of(-0.70710678118654752f * x);

    public void Modulate(DeviceTensor x, MatrixView shift, MatrixView scale, DeviceTensor y, int batch, int tokens, int dim)
    {
        long size = (long)batch * tokens * dim;
        var xt = Sized(x, DType.F32, size, nameof(x)); var yt = Sized(y, DType.F32, size, nameof(y));
        var shiftRows = Rows(shift, batch, dim, nameof(shift)); var scaleRows = Rows(scale, batch, dim, nameof(scale));
        ParallelRows(batch * tokens, size, row =>
        {
            int b = row / tokens;
            var sh = shiftRows.Tensor.Span<float>().Slice((int)(shiftRows.Offset + (long)b * shiftRows.Stride), dim);
            var sc = scaleRows.Tensor.Span<float>().Slice((int)(scaleRows.Offset + (long)b * scaleRows.Stride), dim);
            var from = xt.Span<float>().Slice(row * dim, dim); var to = yt.Span<float>().Slice(row * dim, dim);
            for (int j = 0; j < dim; j++) to[j] = from[j] * (1f + sc[j]) + sh[j];
        });
    }

    public void GatedAddInPlace(DeviceTensor x, MatrixView gate, DeviceTensor y, int batch, int tokens, int dim)
    {
        long size = (long)batch * tokens * dim;
        var xt = Sized(x, DType.F32, size, nameof(x)); var yt = Sized(y, DType.F32, size, nameof(y));
        var gateRows = Rows(gate, batch, dim, nameof(gate));
        ParallelRows(batch * tokens, size, row =>
        {
            var g = gateRows.Tensor.Span<float>().Slice((int)(gateRows.Offset + (long)(row / tokens) * gateRows.Stride), dim);
            var to = xt.Span<float>().Slice(row * dim, dim); var from = yt.Span<float>().Slice(row * dim, dim);
            for (int j = 0; j < dim; j++) to[j] += g[j] * from[j];
        });
    }

    public void Axpby(DeviceTensor x, DeviceTensor y, float a, float b, long count)
    {
        var xt = Sized(x, DType.F32, count, nameof(x)); var yt = Sized(y, DType.F32, count, nameof(y));
        ParallelChunks(count, (start, length) =>
        {
            var xs = xt.Span<float>().Slice((int)start, length); var ys = yt.Span<float>().Slice((int)start, length);
            for (int i = 0; i < length; i++) xs[i] = a * xs[i] + b * ys[i];
        });
    }

    /// <summary>t as a <paramref name="type"/> tensor of at least <paramref name="count"/> elements.</summary>
    internal static CpuTensor Sized(DeviceTensor t, DType type, long count, string name)
    {
        var c = RequireType(t, type);
        if (c.Length < count) throw new ArgumentException($"{name} has {c.Length} elements, fewer than the {count} its shape needs");
        return c;
    }

    /// <summary>The F32 view's tensor after checking that its rows 0..rows−1 of <paramref name="columns"/> fit.</summary>
    static (CpuTensor Tensor, long Offset, int Stride) Rows(MatrixView view, int rows, int columns, string name)
    {
        var t = RequireType(view.Tensor, DType.F32);
        MatrixBounds.Check(view, rows, columns, name);
        return (t, view.Offset, view.Stride);
    }
}
