using System.Numerics.Tensors;
using Qzo.Numerics;

namespace Qzo.Compute.Cpu;

/// <summary>The activation operations of <see cref="IBackend"/>'s Activations part, in fp32.</summary>
internal sealed partial class CpuBackend
{
    public void RmsNormOnePlusWeight(DeviceTensor x, DeviceTensor weight, DeviceTensor y, int rows, int dim, float eps)
    {
        var xt = Cpu(x); var wt = Cpu(weight); var yt = Cpu(y);
        var onePlusWeight = new float[dim];
        TensorPrimitives.Add(wt.Span<float>().Slice(0, dim), 1f, onePlusWeight);
        ParallelRows(rows, (long)rows * dim, r =>
        {
            var row = xt.Span<float>().Slice(r * dim, dim);
            var output = yt.Span<float>().Slice(r * dim, dim);
            float meanSquare = TensorPrimitives.SumOfSquares(row) / dim;
            TensorPrimitives.Multiply(row, 1.0f / MathF.Sqrt(meanSquare + eps), output);
            TensorPrimitives.Multiply(output, onePlusWeight, output);
        });
    }

    public void GeluTanhMulInPlace(DeviceTensor gate, DeviceTensor up, long count)
    {
        var g = Cpu(gate); var u = Cpu(up);
        ParallelChunks(count, (start, length) =>
        {
            var gs = g.Span<float>().Slice((int)start, length);
            var us = u.Span<float>().Slice((int)start, length);
            for (int i = 0; i < gs.Length; i++) gs[i] = GeluTanh(gs[i]) * us[i];
        });
    }

    /// <summary>torch's gelu(approximate="tanh").</summary>
    internal static float GeluTanh(float g) => 0.5f * g * (1f + MathF.Tanh(0.7978845608028654f * (g + 0.044715f * g * g * g)));

    public void SoftcapInPlace(DeviceTensor x, float cap, long count)
    {
        if (!(cap > 0)) throw new ArgumentOutOfRangeException(nameof(cap), "the soft cap must be positive");
        var xt = RequireType(x, DType.F32);
        ParallelChunks(count, (start, length) =>
        {
            var xs = xt.Span<float>().Slice((int)start, length);
            for (int i = 0; i < xs.Length; i++) xs[i] = MathF.Tanh(xs[i] / cap) * cap;
        });
    }

    public void ScaleInPlace(DeviceTensor x, float factor, long count)
    {
        var xs = F(x).Slice(0, checked((int)count));
        TensorPrimitives.Multiply(xs, factor, xs);
    }
}
